//! `docker search`: the v1 search API of a registry's index, `GET /v1/search?q=TERM&n=LIMIT`,
//! as dockerd asks it. A term names its index the way Docker splits it: `busybox` and
//! `user/app` go to Docker Hub's index (`https://index.docker.io/v1/`, with `library/` taken off
//! the term), `host:port/app` or `reg.example/app` to that host's. An index other than Docker
//! Hub's is first pinged (`GET /v1/_ping`) over HTTPS, then over plain HTTP when it is insecure,
//! and failures read as dockerd's. Credentials, when there are any, go as Basic auth.

use serde::{Deserialize, Serialize};

use crate::client::{describe, http_client, read_bounded, Registry};
use crate::endpoint::{Endpoint, DOCKER_HUB};
use crate::error::RegistryError;

/// Docker Hub's index host.
pub const INDEX_HOST: &str = "index.docker.io";
/// The largest answer read from an index.
const MAX_ANSWER: u64 = 4 << 20;

/// One repository an index found, in the Engine API's shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// Stars.
    #[serde(default)]
    pub star_count: i64,
    /// An official image.
    #[serde(default)]
    pub is_official: bool,
    /// The repository.
    #[serde(default)]
    pub name: String,
    /// Built automatically (a Docker Hub notion).
    #[serde(default)]
    pub is_automated: bool,
    /// What it is.
    #[serde(default)]
    pub description: String,
}

#[derive(Deserialize)]
struct SearchAnswer {
    #[serde(default)]
    results: Vec<SearchResult>,
}

/// The index `term` names and what to ask it (Docker's `splitReposSearchTerm`).
pub fn split_term(term: &str) -> (&str, &str) {
    match term.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first, rest)
        }
        _ => (DOCKER_HUB, term),
    }
}

impl Registry {
    /// The repositories the index of `term` finds for it, at most `limit` (1 to 100).
    pub fn search(&self, term: &str, limit: u32) -> Result<Vec<SearchResult>, RegistryError> {
        if term.contains("://") {
            return Err(RegistryError::Invalid(
                "Invalid repository name (ex: \"registry.domain.tld/myrepos\")".into(),
            ));
        }
        let (index, mut query) = split_term(term);
        let official = index == DOCKER_HUB || index == INDEX_HOST;
        let endpoint = if official {
            query = query.strip_prefix("library/").unwrap_or(query);
            Endpoint {
                base: format!("https://{INDEX_HOST}"),
                host: INDEX_HOST.into(),
                verify_tls: true,
                mirror: false,
            }
        } else {
            self.ping_index(index)?
        };
        let http = http_client(&endpoint, self.options())?;
        let url = reqwest::Url::parse_with_params(
            &format!("{}/v1/search", endpoint.base),
            [("q", query), ("n", &limit.to_string())],
        )
        .map_err(|e| RegistryError::Invalid(format!("{}: {e}", endpoint.base)))?
        .to_string();
        let mut req = http.get(&url).header("X-Docker-Token", "true");
        let creds_host = if official { DOCKER_HUB } else { index };
        if let Some(auth) = self.credentials().for_registry(creds_host)? {
            if !auth.username.is_empty() {
                req = req.header("Authorization", crate::auth::basic_header(&auth));
            }
        }
        let r = req.send().map_err(|e| RegistryError::Transport {
            verb: "Get",
            url: url.clone(),
            reason: describe(&e),
        })?;
        if !r.status().is_success() {
            return Err(RegistryError::Api(format!(
                "Unexpected status code {}",
                r.status().as_u16()
            )));
        }
        let body = read_bounded(r, MAX_ANSWER, "the search answer")?;
        let answer: SearchAnswer = serde_json::from_slice(&body)
            .map_err(|e| RegistryError::Invalid(format!("the index's search answer: {e}")))?;
        Ok(answer.results)
    }

    /// The endpoint of index `host` that answers `GET /v1/_ping`: HTTPS, then plain HTTP when
    /// the registry is insecure; otherwise dockerd's words for the failure.
    fn ping_index(&self, host: &str) -> Result<Endpoint, RegistryError> {
        let insecure = self.options().is_insecure(host);
        let mut failures = Vec::new();
        for scheme in ["https", "http"] {
            if scheme == "http" && !insecure {
                break;
            }
            let endpoint = Endpoint {
                base: format!("{scheme}://{host}"),
                host: host.to_string(),
                verify_tls: !insecure,
                mirror: false,
            };
            let url = format!("{}/v1/_ping", endpoint.base);
            let http = http_client(&endpoint, self.options())?;
            match http.get(&url).send() {
                Ok(_) => return Ok(endpoint),
                Err(e) => failures.push(format!("Get \"{url}\": {}", describe(&e))),
            }
        }
        Err(RegistryError::Api(if insecure {
            format!(
                "invalid registry endpoint \"http://{host}/v1/\". HTTPS attempt: {}. HTTP attempt: {}",
                failures[0], failures[1]
            )
        } else {
            format!(
                "invalid registry endpoint https://{host}/v1/: {}. If this private registry supports only HTTP or HTTPS with an unknown CA certificate, please add `--insecure-registry {host}` to the daemon's arguments. In the case of HTTPS, if you have access to the registry's CA certificate, no need for the flag; simply place the CA certificate at /etc/docker/certs.d/{host}/ca.crt",
                failures[0]
            )
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_name_their_index_as_docker_splits_them() {
        assert_eq!(split_term("busybox"), ("docker.io", "busybox"));
        assert_eq!(split_term("user/app"), ("docker.io", "user/app"));
        assert_eq!(
            split_term("library/busybox"),
            ("docker.io", "library/busybox")
        );
        assert_eq!(split_term("localhost/app"), ("localhost", "app"));
        assert_eq!(split_term("127.0.0.1:5000/a/b"), ("127.0.0.1:5000", "a/b"));
        assert_eq!(split_term("reg.example/app"), ("reg.example", "app"));
    }

    #[test]
    fn a_term_with_a_scheme_is_refused_in_dockers_words() {
        let r = Registry::new(Default::default(), crate::client::Credentials::Given(None));
        assert_eq!(
            r.search("http://x/y", 25).unwrap_err().to_string(),
            "Invalid repository name (ex: \"registry.domain.tld/myrepos\")"
        );
    }
}
