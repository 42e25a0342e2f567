//! [`Platform`]: an image platform as Docker writes it (`os[/arch[/variant]]`, e.g. `linux/amd64`,
//! `linux/arm/v7`), parsed and normalized the way containerd's `platforms` package does for the
//! names Docker users write (`x86_64` is `amd64`, `aarch64` is `arm64`, a lone OS or architecture
//! takes this machine's other half), and compared with an image's config (`run --platform`).
//! Hand-written: no maintained crate parses Docker's platform strings.

use crate::config::ImageConfig;
use crate::import::host_architecture;

/// An OS, architecture and optional variant, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`, `windows` ...
    pub os: String,
    /// `amd64`, `arm64`, `arm` ...
    pub architecture: String,
    /// `v7`, `v8` ... (`None`: unspecified).
    pub variant: Option<String>,
}

/// Operating systems Go knows (containerd accepts these as the first component).
const OSES: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "illumos",
    "ios",
    "js",
    "linux",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "windows",
];

/// Architectures Go knows, after normalization.
const ARCHES: &[&str] = &[
    "386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le", "mipsle", "ppc64",
    "ppc64le", "riscv64", "s390x", "wasm",
];

/// containerd's architecture and variant normalization.
fn normalize_arch(arch: &str, variant: Option<&str>) -> (String, Option<String>) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant.map(str::to_ascii_lowercase);
    match arch.as_str() {
        "i386" | "x86" => ("386".into(), None),
        "x86_64" | "x86-64" | "amd64" => (
            "amd64".into(),
            variant.filter(|v| v != "v1" && !v.is_empty()),
        ),
        "aarch64" | "arm64" => ("arm64".into(), variant.filter(|v| v != "8" && v != "v8")),
        "armhf" => ("arm".into(), Some("v7".into())),
        "armel" => ("arm".into(), Some("v6".into())),
        "arm" => (
            "arm".into(),
            Some(match variant.as_deref() {
                None | Some("") | Some("7") => "v7".into(),
                Some("5") | Some("6") | Some("8") => format!("v{}", variant.unwrap()),
                Some(v) => v.to_string(),
            }),
        ),
        _ => (arch, variant),
    }
}

impl Platform {
    /// This machine's platform.
    pub fn host() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: host_architecture().into(),
            variant: None,
        }
    }

    /// Parses `spec` as Docker does; the error is Docker's text.
    pub fn parse(spec: &str) -> Result<Platform, String> {
        let unknown =
            || format!("{spec:?}: unknown operating system or architecture: invalid argument");
        let parts: Vec<&str> = spec.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) || parts.len() > 3 {
            return Err(format!(
                "{spec:?}: invalid platform specifier: invalid argument"
            ));
        }
        let first = parts[0].to_ascii_lowercase();
        if parts.len() == 1 {
            if OSES.contains(&first.as_str()) {
                return Ok(Platform {
                    os: first,
                    ..Platform::host()
                });
            }
            let (architecture, variant) = normalize_arch(&first, None);
            if !ARCHES.contains(&architecture.as_str()) {
                return Err(unknown());
            }
            return Ok(Platform {
                os: "linux".into(),
                architecture,
                variant,
            });
        }
        if !OSES.contains(&first.as_str()) {
            return Err(unknown());
        }
        let (architecture, variant) = normalize_arch(parts[1], parts.get(2).copied());
        if !ARCHES.contains(&architecture.as_str()) {
            return Err(unknown());
        }
        Ok(Platform {
            os: first,
            architecture,
            variant,
        })
    }

    /// The platform an image config declares (an empty OS or architecture is this machine's, as
    /// Docker reads images from before platforms were recorded).
    pub fn of_image(config: &ImageConfig) -> Platform {
        let host = Platform::host();
        let os = if config.os.is_empty() {
            host.os
        } else {
            config.os.to_ascii_lowercase()
        };
        let arch = if config.architecture.is_empty() {
            host.architecture.as_str()
        } else {
            config.architecture.as_str()
        };
        let (architecture, variant) = normalize_arch(arch, config.variant.as_deref());
        Platform {
            os,
            architecture,
            variant,
        }
    }

    /// A platform as a manifest or config records it (`os`, `architecture`, `variant`),
    /// normalized.
    pub fn from_parts(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        let (architecture, variant) = normalize_arch(architecture, variant);
        Platform {
            os: os.to_ascii_lowercase(),
            architecture,
            variant,
        }
    }

    /// True when this machine runs containers of this platform without emulation (a 386
    /// image on amd64 too).
    pub fn runs_here(&self) -> bool {
        let host = Platform::host();
        host.matches(self)
            || (host.architecture == "amd64" && self.os == "linux" && self.architecture == "386")
    }

    /// Whether an image of platform `image` satisfies this request: OS and architecture equal,
    /// and the variant too when both name one.
    pub fn matches(&self, image: &Platform) -> bool {
        self.os == image.os
            && self.architecture == image.architecture
            && (self.variant.is_none() || image.variant.is_none() || self.variant == image.variant)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifiers_normalize_as_containerd_does() {
        let host = host_architecture();
        assert_eq!(
            Platform::parse("linux").unwrap().to_string(),
            format!("linux/{host}")
        );
        assert_eq!(
            Platform::parse("x86_64").unwrap().to_string(),
            "linux/amd64"
        );
        assert_eq!(
            Platform::parse("linux/aarch64").unwrap().to_string(),
            "linux/arm64"
        );
        assert_eq!(
            Platform::parse("linux/arm64/v8").unwrap().to_string(),
            "linux/arm64"
        );
        assert_eq!(
            Platform::parse("linux/armhf").unwrap().to_string(),
            "linux/arm/v7"
        );
        assert_eq!(
            Platform::parse("Linux/AMD64").unwrap().to_string(),
            "linux/amd64"
        );
        assert_eq!(
            Platform::parse("foo").unwrap_err(),
            "\"foo\": unknown operating system or architecture: invalid argument"
        );
        assert!(Platform::parse("linux/amd64/v2/x").is_err());
        assert!(Platform::parse("linux/").is_err());
        assert!(Platform::parse("linux/sparc").is_err());
    }

    #[test]
    fn images_match_on_os_architecture_and_a_named_variant() {
        let img = |os: &str, arch: &str, variant: Option<&str>| {
            Platform::of_image(&ImageConfig {
                os: os.into(),
                architecture: arch.into(),
                variant: variant.map(Into::into),
                ..Default::default()
            })
        };
        let want = Platform::parse("linux/arm/v7").unwrap();
        assert!(want.matches(&img("linux", "arm", Some("v7"))));
        assert!(!want.matches(&img("linux", "arm", Some("v6"))));
        assert!(!want.matches(&img("linux", "amd64", None)));
        assert!(Platform::host().matches(&img("", "", None)));
        assert!(Platform::parse("linux/amd64")
            .unwrap()
            .matches(&img("linux", "amd64", None)));
    }
}
