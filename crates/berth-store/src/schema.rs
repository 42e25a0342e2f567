//! The metadata schema, as one ordered list of [`MIGRATIONS`]. The database's `user_version` is the
//! number of migrations applied; [`crate::db::Db::open`] applies the missing ones in one
//! transaction each. Never edit a released migration: append a new one (and a test upgrading a
//! database built by the previous version).
//!
//! Tables (v1):
//!
//! ```text
//! meta      (key PK, value)                 storage driver chosen for this root, schema facts
//! journal   (kind, key, owner_pid, owner_start, created_at; PK kind+key)
//!                                           paths a multi-step change may leave half done; see journal.rs
//! layers    (chain_id PK, diff_id, parent → layers, cache_id UNIQUE, size, created_at)
//!                                           one row per unpacked layer; its files are
//!                                           <root>/layers/<cache_id>, its tar blob blobs/sha256/<diff_id>
//! images    (id PK = sha256 of config, config BLOB, top_layer → layers, size, parent, created, added_at)
//!                                           the config bytes are kept verbatim: their digest is the ID
//! image_refs(name PK, image_id → images, kind 'tag'|'digest', created_at)
//!                                           normalized names (`docker.io/library/busybox:latest`)
//! ```
//!
//! Tables (v2):
//!
//! ```text
//! containers(id PK, name UNIQUE, image_id, image_ref, top_layer → layers, config, host_config,
//!            mounts, status, pid, exit_code, error, oom_killed, created_at, started_at,
//!            finished_at, restart_count)
//!                                           config/host_config are Docker's JSON objects; mounts
//!                                           the resolved mount points; the container's writable
//!                                           and init layers are the driver dirs `<id>`, `<id>-init`,
//!                                           its files <root>/containers/<id>/
//! ```
//!
//! Tables (v3):
//!
//! ```text
//! volumes          (name PK, driver, labels, options, anonymous, created_at)
//!                                           labels/options are JSON objects or NULL (Docker tells
//!                                           `null` from `{}`); files <root>/volumes/<name>/_data
//! container_volumes(container_id → containers ON DELETE CASCADE, volume → volumes,
//!                   destination, anonymous; PK container_id+destination)
//!                                           the references that make a volume "in use"; the
//!                                           foreign key makes `volume rm` racing `create -v`
//!                                           end with exactly one of them failing
//! ```
//!
//! Tables (v4):
//!
//! ```text
//! execs     (id PK, container_id → containers ON DELETE CASCADE, config, started, running,
//!            exit_code NULL until it ended, pid, error (why it could not start), created_at)
//!                                           exec instances; the process that waits for the
//!                                           exec'd process records its pid and exit, so exec
//!                                           inspect outlives `berth serve` and CLI and API share it
//! ```
//!
//! Tables (v5):
//!
//! ```text
//! build_cache(key PK = sha256 of parent image ID + the step's config, image_id → images
//!             ON DELETE CASCADE, parent, created_at)
//!                                           the image a build step made on a parent; a rebuild
//!                                           reuses it; it goes with its image
//! ```
//!
//! Tables (v6):
//!
//! ```text
//! networks  (id PK, name UNIQUE, driver, bridge, subnet, gateway, ip_range, ipam, internal,
//!            attachable, dns, options, labels, created_at)
//!                                           `bridge`, `host`, `none` and user-defined networks;
//!                                           `bridge` is the host interface (unique when set),
//!                                           ipam/options/labels Docker's JSON
//! endpoints (container_id → containers ON DELETE CASCADE, network_id, position, aliases,
//!            ipam_ipv4, links, driver_opts, mac_address (asked for), endpoint_id, ip, mac,
//!            ports;
//!            PK container_id+network_id; UNIQUE network_id+ip where ip is set)
//!                                           a container's connection to a network; endpoint_id,
//!                                           ip, mac and ports are set while it runs (an address
//!                                           is allocated by setting `ip` in a transaction, which
//!                                           the unique index decides); network_id has no foreign
//!                                           key: like Docker, a stopped container keeps naming
//!                                           a network that was removed, and fails to start
//! ```
//!
//! Tables (v7):
//!
//! ```text
//! events    (seq PK AUTOINCREMENT, time_nano, type, action, actor_id, attributes, scope)
//!                                           the bounded event log (`docker events`): every
//!                                           process appends what it did; readers page by seq
//! containers.health                         a health-checked container's `State.Health` (JSON),
//!                                           NULL without a health check
//! ```
//!
//! Tables (v8):
//!
//! ```text
//! blob_sources(diff_id, digest, registry, repository, media_type, size, created_at;
//!              PK diff_id+digest+registry+repository)
//!                                           where a layer's compressed blob was pulled from or
//!                                           pushed to, so a push can skip blobs a registry has
//!                                           and mount them across repositories (Docker's
//!                                           v2metadata)
//! ```
//!
//! A layer is alive while it is the top layer of an image or of a container, or the parent of a
//! live layer; nothing stores a reference count that could drift from that.
//!
//! Tables (v9):
//!
//! ```text
//! build_sums(key PK, image_id → images ON DELETE CASCADE (NULL for a context), value,
//!            created_at)
//!                                           what a build hashed, so a rebuild does not hash it
//!                                           again: a COPY --from source in an image (images do
//!                                           not change; the row goes with its image), or the
//!                                           files of a context directory with the inode, size
//!                                           and times they were hashed at
//! ```
//!
//! Tables (v10):
//!
//! ```text
//! volume_mounts(id PK (the caller ID sent to the plugin), volume, driver, container_id,
//!               destination, created_at)
//!                                           a plugin volume mounted for a container (one row
//!                                           per mount point and start); no foreign keys, so a
//!                                           row whose container is gone stays for the repair
//!                                           pass to unmount
//! ```
//!
//! Tables (v11):
//!
//! ```text
//! containers.init_layer                     the driver ID of the container's init layer (its
//!                                           placeholders, below its writable layer): the one
//!                                           shared by every container on the same image top
//!                                           layer, `<top layer cache_id>-init`, which goes with
//!                                           that layer's directory; `<id>-init` (its own, gone
//!                                           with it) for a container made by an older berth or
//!                                           from an image without layers
//! ```

/// The migrations, in order. Index `i` upgrades a database from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // v1: the image half of the storage model.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE journal (
        kind        TEXT NOT NULL,
        key         TEXT NOT NULL,
        owner_pid   INTEGER NOT NULL,
        owner_start INTEGER NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE TABLE layers (
        chain_id   TEXT PRIMARY KEY,
        diff_id    TEXT NOT NULL,
        parent     TEXT REFERENCES layers(chain_id),
        cache_id   TEXT NOT NULL UNIQUE,
        size       INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX layers_parent ON layers(parent);
    CREATE INDEX layers_diff_id ON layers(diff_id);
    CREATE TABLE images (
        id         TEXT PRIMARY KEY,
        config     BLOB NOT NULL,
        top_layer  TEXT REFERENCES layers(chain_id),
        size       INTEGER NOT NULL,
        parent     TEXT,
        created    TEXT NOT NULL,
        added_at   TEXT NOT NULL
    );
    CREATE INDEX images_parent ON images(parent);
    CREATE INDEX images_top_layer ON images(top_layer);
    CREATE TABLE image_refs (
        name       TEXT PRIMARY KEY,
        image_id   TEXT NOT NULL REFERENCES images(id),
        kind       TEXT NOT NULL CHECK (kind IN ('tag', 'digest')),
        created_at TEXT NOT NULL
    );
    CREATE INDEX image_refs_image ON image_refs(image_id);
    "#,
    // v2: containers, each with its writable layer over an image's layers.
    r#"
    CREATE TABLE containers (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        image_id      TEXT NOT NULL,
        image_ref     TEXT NOT NULL,
        top_layer     TEXT REFERENCES layers(chain_id),
        config        TEXT NOT NULL,
        host_config   TEXT NOT NULL,
        mounts        TEXT NOT NULL DEFAULT '[]',
        status        TEXT NOT NULL,
        pid           INTEGER NOT NULL DEFAULT 0,
        exit_code     INTEGER NOT NULL DEFAULT 0,
        error         TEXT NOT NULL DEFAULT '',
        oom_killed    INTEGER NOT NULL DEFAULT 0,
        created_at    TEXT NOT NULL,
        started_at    TEXT NOT NULL DEFAULT '0001-01-01T00:00:00Z',
        finished_at   TEXT NOT NULL DEFAULT '0001-01-01T00:00:00Z',
        restart_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX containers_top_layer ON containers(top_layer);
    CREATE INDEX containers_image ON containers(image_id);
    "#,
    // v3: volumes and the container → volume references that decide "in use".
    r#"
    CREATE TABLE volumes (
        name       TEXT PRIMARY KEY,
        driver     TEXT NOT NULL,
        labels     TEXT,
        options    TEXT,
        anonymous  INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE container_volumes (
        container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
        volume       TEXT NOT NULL REFERENCES volumes(name),
        destination  TEXT NOT NULL,
        anonymous    INTEGER NOT NULL,
        PRIMARY KEY (container_id, destination)
    );
    CREATE INDEX container_volumes_volume ON container_volumes(volume);
    "#,
    // v4: exec instances, shared by the CLI and the API and kept across restarts of the server.
    r#"
    CREATE TABLE execs (
        id           TEXT PRIMARY KEY,
        container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
        config       TEXT NOT NULL,
        started      INTEGER NOT NULL DEFAULT 0,
        running      INTEGER NOT NULL DEFAULT 0,
        exit_code    INTEGER,
        pid          INTEGER NOT NULL DEFAULT 0,
        error        TEXT NOT NULL DEFAULT '',
        created_at   TEXT NOT NULL
    );
    CREATE INDEX execs_container ON execs(container_id);
    "#,
    // v5: the build cache: which image a build step made on which parent.
    r#"
    CREATE TABLE build_cache (
        key        TEXT PRIMARY KEY,
        image_id   TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        parent     TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX build_cache_image ON build_cache(image_id);
    "#,
    // v6: networks and container endpoints (address allocations).
    r#"
    CREATE TABLE networks (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        driver      TEXT NOT NULL,
        bridge      TEXT NOT NULL DEFAULT '',
        subnet      TEXT,
        gateway     TEXT,
        ip_range    TEXT,
        ipam        TEXT NOT NULL DEFAULT '{}',
        internal    INTEGER NOT NULL DEFAULT 0,
        attachable  INTEGER NOT NULL DEFAULT 0,
        dns         INTEGER NOT NULL DEFAULT 0,
        options     TEXT NOT NULL DEFAULT '{}',
        labels      TEXT NOT NULL DEFAULT '{}',
        created_at  TEXT NOT NULL
    );
    CREATE UNIQUE INDEX networks_bridge ON networks(bridge) WHERE bridge != '';
    CREATE TABLE endpoints (
        container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
        network_id   TEXT NOT NULL,
        position     INTEGER NOT NULL,
        aliases      TEXT NOT NULL DEFAULT '[]',
        ipam_ipv4    TEXT,
        links        TEXT NOT NULL DEFAULT '[]',
        driver_opts  TEXT,
        mac_address  TEXT,
        endpoint_id  TEXT,
        ip           TEXT,
        mac          TEXT,
        ports        TEXT,
        PRIMARY KEY (container_id, network_id)
    );
    CREATE UNIQUE INDEX endpoints_ip ON endpoints(network_id, ip) WHERE ip IS NOT NULL;
    CREATE INDEX endpoints_network ON endpoints(network_id);
    "#,
    // v7: the event log every berth process appends to, and containers' health.
    r#"
    CREATE TABLE events (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        time_nano  INTEGER NOT NULL,
        type       TEXT NOT NULL,
        action     TEXT NOT NULL,
        actor_id   TEXT NOT NULL,
        attributes TEXT NOT NULL DEFAULT '{}',
        scope      TEXT NOT NULL DEFAULT 'local'
    );
    ALTER TABLE containers ADD COLUMN health TEXT;
    "#,
    // v8: blob sources: the compressed blobs a layer is known by in registries.
    r#"
    CREATE TABLE blob_sources (
        diff_id    TEXT NOT NULL,
        digest     TEXT NOT NULL,
        registry   TEXT NOT NULL,
        repository TEXT NOT NULL,
        media_type TEXT NOT NULL,
        size       INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (diff_id, digest, registry, repository)
    );
    "#,
    // v9: build source sums: what COPY/ADD sources hashed to, for the next build.
    r#"
    CREATE TABLE build_sums (
        key        TEXT PRIMARY KEY,
        image_id   TEXT REFERENCES images(id) ON DELETE CASCADE,
        value      TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX build_sums_image ON build_sums(image_id);
    "#,
    // v10: plugin volume mounts: what berth asked a volume plugin to mount, for whom.
    r#"
    CREATE TABLE volume_mounts (
        id           TEXT PRIMARY KEY,
        volume       TEXT NOT NULL,
        driver       TEXT NOT NULL,
        container_id TEXT NOT NULL,
        destination  TEXT NOT NULL,
        created_at   TEXT NOT NULL
    );
    CREATE INDEX volume_mounts_container ON volume_mounts(container_id);
    "#,
    // v11: a container's init layer is named in its row (shared per image top layer); the
    // containers made before it keep their own `<id>-init`.
    r#"
    ALTER TABLE containers ADD COLUMN init_layer TEXT NOT NULL DEFAULT '';
    UPDATE containers SET init_layer = id || '-init';
    "#,
];

/// The schema version this build writes.
pub fn current_version() -> u32 {
    MIGRATIONS.len() as u32
}
