//! The `networks` and `endpoints` tables (see [`crate::schema`], v5) behind typed accessors:
//! [`NetworkRow`] is one network, [`EndpointRow`] one container's connection to one.
//!
//! What the rows decide, in one transaction each: a network name (and a bridge interface) is
//! taken once ([`insert_network`] → [`MetaError::Exists`], `network with name NAME`); an address
//! is given to one running container ([`set_endpoint_address`] → [`MetaError::Exists`], by the
//! unique index); a network with running containers is not removed ([`delete_network`] → the
//! users). The engine computes which address to take; the store only records it.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::MetaError;

/// One network.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkRow {
    /// 64-hex ID.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    /// The host bridge interface (bridge driver), else empty.
    pub bridge: String,
    /// Effective subnet (CIDR).
    pub subnet: Option<String>,
    /// Effective gateway.
    pub gateway: Option<String>,
    /// Allocation range (CIDR).
    pub ip_range: Option<String>,
    /// Docker's `IPAM` object, as inspect shows it.
    pub ipam: serde_json::Value,
    /// `--internal`.
    pub internal: bool,
    /// `--attachable`.
    pub attachable: bool,
    /// Containers find each other by name.
    pub dns: bool,
    /// Driver options (`-o`).
    pub options: BTreeMap<String, String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

/// A container's connection to a network.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EndpointRow {
    /// The container.
    pub container_id: String,
    /// The network's ID.
    pub network_id: String,
    /// Connection order (0 is `eth0`).
    pub position: i64,
    /// `--network-alias`es.
    pub aliases: Vec<String>,
    /// The address asked for (`--ip`).
    pub ipam_ipv4: Option<String>,
    /// Links on this network (`NAME:ALIAS`).
    pub links: Vec<String>,
    /// Driver options (JSON), as sent.
    pub driver_opts: Option<String>,
    /// The MAC address asked for (`network connect`'s `MacAddress`).
    pub mac_address: Option<String>,
    /// Set while running: the endpoint's ID.
    pub endpoint_id: Option<String>,
    /// Set while running: the allocated address.
    pub ip: Option<String>,
    /// Set while running: the MAC address.
    pub mac: Option<String>,
    /// Set while running, on the endpoint that publishes them: the published ports (JSON).
    pub ports: Option<String>,
}

const NETWORK_COLUMNS: &str = "id, name, driver, bridge, subnet, gateway, ip_range, ipam, \
    internal, attachable, dns, options, labels, created_at";

const ENDPOINT_COLUMNS: &str = "container_id, network_id, position, aliases, ipam_ipv4, links, \
    driver_opts, mac_address, endpoint_id, ip, mac, ports";

fn json<T: serde::de::DeserializeOwned>(r: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn network_row(r: &Row<'_>) -> rusqlite::Result<NetworkRow> {
    Ok(NetworkRow {
        id: r.get(0)?,
        name: r.get(1)?,
        driver: r.get(2)?,
        bridge: r.get(3)?,
        subnet: r.get(4)?,
        gateway: r.get(5)?,
        ip_range: r.get(6)?,
        ipam: json(r, 7)?,
        internal: r.get::<_, i64>(8)? != 0,
        attachable: r.get::<_, i64>(9)? != 0,
        dns: r.get::<_, i64>(10)? != 0,
        options: json(r, 11)?,
        labels: json(r, 12)?,
        created_at: r.get(13)?,
    })
}

fn endpoint_row(r: &Row<'_>) -> rusqlite::Result<EndpointRow> {
    Ok(EndpointRow {
        container_id: r.get(0)?,
        network_id: r.get(1)?,
        position: r.get(2)?,
        aliases: json(r, 3)?,
        ipam_ipv4: r.get(4)?,
        links: json(r, 5)?,
        driver_opts: r.get(6)?,
        mac_address: r.get(7)?,
        endpoint_id: r.get(8)?,
        ip: r.get(9)?,
        mac: r.get(10)?,
        ports: r.get(11)?,
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serializes")
}

/// Records a new network; a taken name or bridge interface is refused.
pub fn insert_network(conn: &Connection, n: &NetworkRow) -> Result<(), MetaError> {
    let result = conn.execute(
        &format!("INSERT INTO networks({NETWORK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
        params![
            n.id,
            n.name,
            n.driver,
            n.bridge,
            n.subnet,
            n.gateway,
            n.ip_range,
            to_json(&n.ipam),
            n.internal as i64,
            n.attachable as i64,
            n.dns as i64,
            to_json(&n.options),
            to_json(&n.labels),
            n.created_at
        ],
    );
    match result {
        Ok(_) => Ok(()),
        Err(e) => match MetaError::from_sqlite(format!("network {}", n.name), e) {
            MetaError::Exists(_) if network_by_name(conn, &n.name)?.is_some() => {
                Err(MetaError::Exists(format!("network with name {}", n.name)))
            }
            MetaError::Exists(_) => Err(MetaError::Exists(format!("bridge {}", n.bridge))),
            other => Err(other),
        },
    }
}

/// Every network, by name.
pub fn all_networks(conn: &Connection) -> Result<Vec<NetworkRow>, MetaError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {NETWORK_COLUMNS} FROM networks ORDER BY name"
    ))?;
    let rows = stmt.query_map([], network_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The network with this exact ID.
pub fn network_by_id(conn: &Connection, id: &str) -> Result<Option<NetworkRow>, MetaError> {
    Ok(conn
        .query_row(
            &format!("SELECT {NETWORK_COLUMNS} FROM networks WHERE id = ?1"),
            [id],
            network_row,
        )
        .optional()?)
}

/// The network with this exact name.
pub fn network_by_name(conn: &Connection, name: &str) -> Result<Option<NetworkRow>, MetaError> {
    // Cached: `ps -a` looks up each container's network.
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {NETWORK_COLUMNS} FROM networks WHERE name = ?1"
        ))
        .and_then(|mut stmt| stmt.query_row([name], network_row).optional())?)
}

/// Networks whose ID starts with `prefix` (at most `limit`).
pub fn networks_by_id_prefix(
    conn: &Connection,
    prefix: &str,
    limit: usize,
) -> Result<Vec<NetworkRow>, MetaError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {NETWORK_COLUMNS} FROM networks WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3"
    ))?;
    let hi = format!("{prefix}\u{7f}");
    let rows = stmt.query_map(params![prefix, hi, limit as i64], network_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What [`delete_network`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    /// The row is gone.
    Deleted,
    /// Running containers use the network: their IDs.
    InUse(Vec<String>),
    /// There was no such row.
    Missing,
}

/// Deletes network `id` unless a running container (an endpoint with an address) uses it.
/// Endpoints of stopped containers stay: they fail to start, as Docker's do.
pub fn delete_network(conn: &Connection, id: &str) -> Result<Deleted, MetaError> {
    let users = active_users(conn, id)?;
    if !users.is_empty() {
        return Ok(Deleted::InUse(users));
    }
    let n = conn.execute("DELETE FROM networks WHERE id = ?1", [id])?;
    Ok(if n == 0 {
        Deleted::Missing
    } else {
        Deleted::Deleted
    })
}

/// IDs of the running containers (endpoints with an address) on network `id`.
pub fn active_users(conn: &Connection, id: &str) -> Result<Vec<String>, MetaError> {
    let mut stmt = conn.prepare_cached(
        "SELECT container_id FROM endpoints WHERE network_id = ?1 AND ip IS NOT NULL
         ORDER BY container_id",
    )?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records a container's connection to a network (without an address); replaces an earlier
/// row for the same pair.
pub fn insert_endpoint(conn: &Connection, e: &EndpointRow) -> Result<(), MetaError> {
    conn.execute(
        &format!(
            "INSERT OR REPLACE INTO endpoints({ENDPOINT_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL, NULL, NULL)"
        ),
        params![
            e.container_id,
            e.network_id,
            e.position,
            to_json(&e.aliases),
            e.ipam_ipv4,
            to_json(&e.links),
            e.driver_opts,
            e.mac_address
        ],
    )?;
    Ok(())
}

/// Removes a container's connection to a network; true if there was one.
pub fn delete_endpoint(
    conn: &Connection,
    container_id: &str,
    network_id: &str,
) -> Result<bool, MetaError> {
    Ok(conn.execute(
        "DELETE FROM endpoints WHERE container_id = ?1 AND network_id = ?2",
        [container_id, network_id],
    )? > 0)
}

/// A container's endpoints, in connection order.
pub fn endpoints_of_container(
    conn: &Connection,
    container_id: &str,
) -> Result<Vec<EndpointRow>, MetaError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE container_id = ?1 ORDER BY position, network_id"
    ))?;
    let rows = stmt.query_map([container_id], endpoint_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A network's endpoints (running and stopped containers).
pub fn endpoints_of_network(
    conn: &Connection,
    network_id: &str,
) -> Result<Vec<EndpointRow>, MetaError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE network_id = ?1 ORDER BY container_id"
    ))?;
    let rows = stmt.query_map([network_id], endpoint_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every endpoint with an address (running containers), for `ps` and port checks.
pub fn active_endpoints(conn: &Connection) -> Result<Vec<EndpointRow>, MetaError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE ip IS NOT NULL ORDER BY container_id, position"
    ))?;
    let rows = stmt.query_map([], endpoint_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The addresses in use on network `id`.
pub fn addresses_in_use(conn: &Connection, network_id: &str) -> Result<Vec<String>, MetaError> {
    let mut stmt =
        conn.prepare_cached("SELECT ip FROM endpoints WHERE network_id = ?1 AND ip IS NOT NULL")?;
    let rows = stmt.query_map([network_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Gives a container's endpoint its running state: ID, address, MAC, published ports. The
/// unique index refuses an address another running container holds.
pub fn set_endpoint_address(
    conn: &Connection,
    e: &EndpointRow,
    network_name: &str,
) -> Result<(), MetaError> {
    let result = conn.execute(
        "UPDATE endpoints SET endpoint_id = ?3, ip = ?4, mac = ?5, ports = ?6
         WHERE container_id = ?1 AND network_id = ?2",
        params![
            e.container_id,
            e.network_id,
            e.endpoint_id,
            e.ip,
            e.mac,
            e.ports
        ],
    );
    result.map(|_| ()).map_err(|err| {
        MetaError::from_sqlite(
            format!(
                "address {} on network {network_name}",
                e.ip.as_deref().unwrap_or_default()
            ),
            err,
        )
    })
}

/// Clears the running state of every endpoint of a container (it stopped): its addresses are
/// free again.
pub fn clear_endpoint_addresses(conn: &Connection, container_id: &str) -> Result<(), MetaError> {
    conn.execute(
        "UPDATE endpoints SET endpoint_id = NULL, ip = NULL, mac = NULL, ports = NULL
         WHERE container_id = ?1",
        [container_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn network(id: &str, name: &str, bridge: &str) -> NetworkRow {
        NetworkRow {
            id: id.into(),
            name: name.into(),
            driver: "bridge".into(),
            bridge: bridge.into(),
            subnet: Some("10.1.0.0/24".into()),
            gateway: Some("10.1.0.1".into()),
            ip_range: None,
            ipam: serde_json::json!({"Driver": "default"}),
            internal: false,
            attachable: false,
            dns: true,
            options: BTreeMap::new(),
            labels: BTreeMap::from([("a".into(), "b".into())]),
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn container(db: &Db, id: &str) {
        db.conn()
            .execute(
                "INSERT INTO containers(id, name, image_id, image_ref, config, host_config,
                 status, created_at) VALUES (?1, ?1, 'i', 'i', '{}', '{}', 'created', 'now')",
                [id],
            )
            .unwrap();
    }

    #[test]
    fn names_bridges_and_addresses_are_taken_once() {
        let t = tempfile::tempdir().unwrap();
        let mut db = Db::open(&t.path().join("berth.db")).unwrap();
        insert_network(db.conn(), &network("n1", "front", "br-1")).unwrap();
        assert_eq!(
            insert_network(db.conn(), &network("n2", "front", "br-2"))
                .unwrap_err()
                .to_string(),
            "network with name front already exists"
        );
        assert!(matches!(
            insert_network(db.conn(), &network("n2", "back", "br-1")),
            Err(MetaError::Exists(b)) if b == "bridge br-1"
        ));
        let n = network_by_name(db.conn(), "front").unwrap().unwrap();
        assert_eq!(n.labels["a"], "b");
        assert_eq!(networks_by_id_prefix(db.conn(), "n", 2).unwrap().len(), 1);

        container(&db, "c1");
        container(&db, "c2");
        for c in ["c1", "c2"] {
            insert_endpoint(
                db.conn(),
                &EndpointRow {
                    container_id: c.into(),
                    network_id: "n1".into(),
                    aliases: vec!["web".into()],
                    ..Default::default()
                },
            )
            .unwrap();
        }
        let running = |c: &str| EndpointRow {
            container_id: c.into(),
            network_id: "n1".into(),
            endpoint_id: Some("e".into()),
            ip: Some("10.1.0.2".into()),
            mac: Some("m".into()),
            ..Default::default()
        };
        db.write(|tx| set_endpoint_address(tx, &running("c1"), "front"))
            .unwrap();
        assert!(matches!(
            db.write(|tx| set_endpoint_address(tx, &running("c2"), "front")),
            Err(MetaError::Exists(_))
        ));
        assert_eq!(addresses_in_use(db.conn(), "n1").unwrap(), ["10.1.0.2"]);
        assert_eq!(
            delete_network(db.conn(), "n1").unwrap(),
            Deleted::InUse(vec!["c1".into()])
        );
        clear_endpoint_addresses(db.conn(), "c1").unwrap();
        assert!(active_endpoints(db.conn()).unwrap().is_empty());
        assert_eq!(delete_network(db.conn(), "n1").unwrap(), Deleted::Deleted);
        assert_eq!(delete_network(db.conn(), "n1").unwrap(), Deleted::Missing);
        // The stopped containers still name the removed network.
        assert_eq!(endpoints_of_container(db.conn(), "c2").unwrap().len(), 1);
        db.conn()
            .execute("DELETE FROM containers WHERE id = 'c2'", [])
            .unwrap();
        assert!(endpoints_of_container(db.conn(), "c2").unwrap().is_empty());
    }
}
