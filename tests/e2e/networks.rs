//! Networks, end to end: the default bridge (addresses, NAT, `NetworkSettings`), published
//! ports reached with curl from the host (loopback and the host's own address), legacy links,
//! user-defined networks with DNS names, `/etc/hosts`/`resolv.conf`/`hostname` as Docker
//! writes them, and the daemonless lifetime — nothing of a container's networking (namespace,
//! veth, bridge, firewall rule, DNS entry) outlives it, whoever stops it.
//!
//! Every root has its own bridge name and /22 (see `net_harness`); host ports are picked free
//! at run time, never fixed.

use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::Path;
use std::time::Duration;

use crate::harness::*;
use crate::net_harness::{leftovers_of, ports_of};

/// A TCP port free on every address right now.
fn free_port() -> u16 {
    TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The host's own (non-loopback) address: the source of its default route.
fn host_ip() -> String {
    let out = std::process::Command::new("ip")
        .args(["-4", "route", "get", "1.1.1.1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut words = text.split_whitespace();
    while let Some(w) = words.next() {
        if w == "src" {
            return words.next().unwrap().to_string();
        }
    }
    panic!("no source address in {text:?}");
}

/// `curl` of `url` from the host: (exit code, body).
fn curl(url: &str) -> (i32, String) {
    let out = std::process::Command::new("curl")
        .args(["-s", "-m", "5", url])
        .output()
        .expect("curl runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Polls `url` until it answers (a server in a fresh container takes a moment to listen).
#[track_caller]
fn curl_ok(url: &str) -> String {
    wait_until(&format!("{url} to answer"), SOON, || {
        let (code, body) = curl(url);
        (code == 0).then_some(body)
    })
}

/// A busybox httpd on port `port` serving `body` at `/`.
fn httpd(port: u16, body: &str) -> String {
    format!(
        "mkdir -p /www{port} && echo '{body}' > /www{port}/index.html && exec httpd -f -p {port} -h /www{port}"
    )
}

/// Namespace files of a root.
fn namespaces(b: &Berth) -> Vec<String> {
    std::fs::read_dir(b.exec_root().join("netns"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

/// Host interfaces whose name is `name`.
fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Asserts that nothing of the root's containers' networking is left on the host (namespaces,
/// veths, published ports, DNS entries), nor anything of its removed networks. The networks
/// that exist keep their bridge and firewall chains between containers.
#[track_caller]
fn assert_no_network_left(b: &Berth) {
    assert_eq!(namespaces(b), Vec::<String>::new(), "namespaces left");
    assert_eq!(leftovers_of(b), Vec::<String>::new(), "host state left");
    assert_eq!(
        ports_of(&b.net.bridge()),
        Vec::<String>::new(),
        "veths left on the bridge"
    );
    for dns in [
        b.exec_root().join("netavark/aardvark-dns"),
        b.exec_root().join("aardvark-dns"),
    ] {
        let entries: Vec<_> = std::fs::read_dir(&dns)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n != "aardvark.pid" && n != "aardvark.lock")
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            entries,
            Vec::<String>::new(),
            "DNS entries left in {}",
            dns.display()
        );
    }
}

fn s(v: &serde_json::Value) -> &str {
    v.as_str().unwrap_or_default()
}

#[test]
#[ignore = "needs root"]
fn default_bridge_gives_addresses_nat_and_dockers_network_settings() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run_d(&["--name", "one", "busybox", "sleep", "1000"]);
    b.run_d(&["--name", "two", "busybox", "sleep", "1000"]);
    let subnet = b.net.subnet(0);
    let gw = Ipv4Addr::from(u32::from(subnet.network()) + 1).to_string();
    let one = b.inspect("one");
    let ns = &one["NetworkSettings"];
    let ip1 = s(&ns["IPAddress"]).to_string();
    assert_eq!(
        ip1,
        Ipv4Addr::from(u32::from(subnet.network()) + 2).to_string()
    );
    assert_eq!(s(&ns["Gateway"]), gw);
    assert_eq!(ns["IPPrefixLen"], 24);
    let o: Vec<u8> = ip1.split('.').map(|x| x.parse().unwrap()).collect();
    assert_eq!(
        s(&ns["MacAddress"]),
        format!("02:42:{:02x}:{:02x}:{:02x}:{:02x}", o[0], o[1], o[2], o[3])
    );
    assert_eq!(one["HostConfig"]["NetworkMode"], "default");
    let bridge = &ns["Networks"]["bridge"];
    assert_eq!(bridge["IPAddress"], ns["IPAddress"]);
    assert_eq!(bridge["EndpointID"], ns["EndpointID"]);
    assert_eq!(bridge["Aliases"], serde_json::Value::Null);
    assert!(s(&ns["SandboxKey"]).starts_with(b.exec_root().join("netns").to_str().unwrap()));
    let net = b.run(&["network", "inspect", "bridge"]).ok();
    let net: serde_json::Value = serde_json::from_str(&net.stdout).unwrap();
    let net = &net[0];
    assert_eq!(bridge["NetworkID"], net["Id"]);
    assert_eq!(
        net["Options"]["com.docker.network.bridge.name"],
        b.net.bridge().as_str()
    );
    assert_eq!(
        net["IPAM"]["Config"][0],
        serde_json::json!({"Subnet": subnet.to_string(), "Gateway": gw})
    );
    let id1 = b.id_of("one");
    assert_eq!(net["Containers"][&id1]["Name"], "one");
    assert_eq!(
        net["Containers"][&id1]["IPv4Address"],
        format!("{ip1}/24").as_str()
    );
    // The bridge exists, with the gateway's address, while containers run on it.
    assert!(link_exists(&b.net.bridge()));
    // Containers reach each other and the host; outbound traffic is masqueraded.
    let ip2 = b.inspect("two")["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(ip1, ip2);
    b.run(&["exec", "two", "ping", "-c", "1", "-W", "5", &ip1])
        .ok();
    b.run(&["exec", "two", "ping", "-c", "1", "-W", "5", &host_ip()])
        .ok();
    let nat = String::from_utf8_lossy(
        &std::process::Command::new("iptables")
            .args(["-t", "nat", "-S"])
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    // Outbound traffic from the subnet is masqueraded (traffic within it is not).
    let masquerade = nat.lines().any(|l| {
        l.contains(&format!("-s {subnet} ")) && l.ends_with("-j MASQUERADE") && !l.contains(" -d ")
    });
    assert!(masquerade, "no NAT for {subnet}: {nat}");
    b.run(&["rm", "-f", "one", "two"]).ok();
    assert_no_network_left(&b);
}

#[test]
#[ignore = "needs root"]
fn published_ports_in_every_form_reach_the_container() {
    let b = Berth::new();
    b.busybox("busybox");
    let host = host_ip();
    let (p1, p2) = (free_port(), free_port());
    b.run_d(&[
        "--name",
        "web",
        "-p",
        &format!("{p1}:80"),
        "-p",
        &format!("127.0.0.1:{p2}:81"),
        "-p",
        "82",
        "busybox",
        "sh",
        "-c",
        &format!(
            "{} & {} & {}",
            httpd(80, "eighty"),
            httpd(81, "eighty-one"),
            httpd(82, "eighty-two")
        ),
    ]);
    // HOST:CTR on every address: loopback and the host's own address.
    assert_eq!(curl_ok(&format!("http://127.0.0.1:{p1}/")), "eighty\n");
    assert_eq!(curl_ok(&format!("http://{host}:{p1}/")), "eighty\n");
    // IP:HOST:CTR only on that address.
    assert_eq!(curl_ok(&format!("http://127.0.0.1:{p2}/")), "eighty-one\n");
    assert_ne!(curl(&format!("http://{host}:{p2}/")).0, 0);
    // CTR alone: a random host port, which `port` tells.
    let random = b.run(&["port", "web", "82"]).ok().stdout;
    let random: u16 = random
        .trim()
        .strip_prefix("0.0.0.0:")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        curl_ok(&format!("http://127.0.0.1:{random}/")),
        "eighty-two\n"
    );
    assert_eq!(
        b.run(&["port", "web"]).ok().stdout,
        format!("80/tcp -> 0.0.0.0:{p1}\n81/tcp -> 127.0.0.1:{p2}\n82/tcp -> 0.0.0.0:{random}\n")
    );
    let e = b.run(&["port", "web", "83"]).fails(1);
    assert_eq!(
        e.stderr,
        "Error: No public port '83/tcp' published for web\n"
    );
    assert_eq!(
        b.run(&["ps", "--format", "{{.Ports}}"]).ok().stdout,
        format!("0.0.0.0:{p1}->80/tcp, 127.0.0.1:{p2}->81/tcp, 0.0.0.0:{random}->82/tcp\n")
    );
    let ports = &b.inspect("web")["NetworkSettings"]["Ports"];
    assert_eq!(
        ports["80/tcp"],
        serde_json::json!([{"HostIp": "0.0.0.0", "HostPort": p1.to_string()}])
    );
    let hc = &b.inspect("web")["HostConfig"]["PortBindings"];
    assert_eq!(
        hc["82/tcp"],
        serde_json::json!([{"HostIp": "", "HostPort": ""}])
    );

    // Ranges, -P with --expose, and UDP (served from inside the container's namespace).
    let base = loop {
        let p = free_port();
        if p < 60000 && TcpListener::bind(("0.0.0.0", p + 1)).is_ok() {
            break p;
        }
    };
    b.run_d(&[
        "--name",
        "multi",
        "-p",
        &format!("{base}-{}:90-91", base + 1),
        "-P",
        "--expose",
        "92",
        "-p",
        "5353/udp",
        "busybox",
        "sh",
        "-c",
        &format!(
            "{} & {} & {}",
            httpd(90, "ninety"),
            httpd(91, "ninety-one"),
            httpd(92, "ninety-two")
        ),
    ]);
    assert_eq!(curl_ok(&format!("http://127.0.0.1:{base}/")), "ninety\n");
    assert_eq!(
        curl_ok(&format!("http://127.0.0.1:{}/", base + 1)),
        "ninety-one\n"
    );
    let p92 = b.run(&["port", "multi", "92/tcp"]).ok().stdout;
    assert_eq!(curl_ok(&format!("http://{}/", p92.trim())), "ninety-two\n");
    let udp = b.run(&["port", "multi", "5353/udp"]).ok().stdout;
    let udp_port: u16 = udp.trim().rsplit(':').next().unwrap().parse().unwrap();
    let sandbox = b.inspect("multi")["NetworkSettings"]["SandboxKey"]
        .as_str()
        .unwrap()
        .to_string();
    let mut echo = std::process::Command::new("nsenter")
        .arg(format!("--net={sandbox}"))
        .args([
            "python3",
            "-c",
            "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('0.0.0.0',5353))\nwhile True:\n d,a=s.recvfrom(100)\n s.sendto(b'echo:'+d,a)",
        ])
        .spawn()
        .unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let reply = wait_until("a UDP reply through the published port", SOON, || {
        client.send_to(b"ping", ("127.0.0.1", udp_port)).ok()?;
        let mut buf = [0u8; 100];
        let (n, _) = client.recv_from(&mut buf).ok()?;
        Some(buf[..n].to_vec())
    });
    let _ = echo.kill();
    let _ = echo.wait();
    assert_eq!(reply, b"echo:ping");

    b.run(&["rm", "-f", "web", "multi"]).ok();
    // Every port is free again.
    TcpListener::bind(("0.0.0.0", p1)).expect("the port is released");
    assert_no_network_left(&b);
}

#[test]
#[ignore = "needs root"]
fn a_taken_port_fails_the_start_and_leaves_nothing_behind() {
    let b = Berth::new();
    b.busybox("busybox");
    let holder = TcpListener::bind("0.0.0.0:0").unwrap();
    let taken = holder.local_addr().unwrap().port();
    let e = b
        .run(&[
            "run",
            "-d",
            "--name",
            "late",
            "-p",
            &format!("{taken}:80"),
            "busybox",
            "sleep",
            "100",
        ])
        .fails(125);
    assert!(
        e.stderr.starts_with("berth: Error response from daemon: driver failed programming external connectivity on endpoint late ("),
        "{e:?}"
    );
    assert!(
        e.stderr.contains(&format!(
            "): Error starting userland proxy: listen tcp4 0.0.0.0:{taken}: bind: address already in use"
        )),
        "{e:?}"
    );
    assert_eq!(b.status_of("late"), "created");
    assert_eq!(b.inspect("late")["NetworkSettings"]["IPAddress"], "");
    assert_no_network_left(&b);
    drop(holder);

    // Taken by another container: Docker's port-allocator words.
    let port = free_port();
    b.run_d(&[
        "--name",
        "first",
        "-p",
        &format!("{port}:80"),
        "busybox",
        "sleep",
        "100",
    ]);
    let e = b
        .run(&[
            "run",
            "-d",
            "--name",
            "second",
            "-p",
            &format!("{port}:80"),
            "busybox",
            "sleep",
            "100",
        ])
        .fails(125);
    assert!(
        e.stderr.contains(&format!(
            "): Bind for 0.0.0.0:{port} failed: port is already allocated"
        )),
        "{e:?}"
    );
    // The failed start took no address and left the first container's networking alone.
    assert_eq!(namespaces(&b).len(), 1);
    b.run(&["start", "late"]).ok();
    b.run(&["rm", "-f", "first", "second", "late"]).ok();
    assert_no_network_left(&b);
}

#[test]
#[ignore = "needs root"]
fn wordpress_and_mysql_stand_ins_talk_through_a_legacy_link() {
    // The seed's shape: a "db", and a "web" reaching it through --link db:mysql, published
    // with -p 80 (a random host port).
    let b = Berth::new();
    b.busybox("busybox");
    b.run_d(&[
        "--name",
        "db",
        "-e",
        "MYSQL_ROOT_PASSWORD=secret",
        "--expose",
        "3306",
        "busybox",
        "sh",
        "-c",
        &httpd(3306, "rows from the database"),
    ]);
    let cgi = "#!/bin/sh\necho Content-Type: text/plain\necho\necho \"web: $(wget -q -O- http://mysql:$MYSQL_PORT_3306_TCP_PORT/) (password $MYSQL_ENV_MYSQL_ROOT_PASSWORD)\"\n";
    b.run_d(&[
        "--name",
        "web",
        "--link",
        "db:mysql",
        "-p",
        "80",
        "-e",
        &format!("CGI={cgi}"),
        "busybox",
        "sh",
        "-c",
        "mkdir -p /www/cgi-bin && printf %s \"$CGI\" > /www/cgi-bin/index && chmod +x /www/cgi-bin/index && exec httpd -f -p 80 -h /www",
    ]);
    let port = b.run(&["port", "web", "80"]).ok().stdout;
    let port = port.trim().rsplit(':').next().unwrap().to_string();
    let page = curl_ok(&format!("http://127.0.0.1:{port}/cgi-bin/index"));
    assert_eq!(page, "web: rows from the database (password secret)\n");
    // Docker's link variables and hosts line.
    let db_ip = b.inspect("db")["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let env = b.run(&["exec", "web", "env"]).ok().stdout;
    for want in [
        format!("MYSQL_PORT=tcp://{db_ip}:3306"),
        format!("MYSQL_PORT_3306_TCP=tcp://{db_ip}:3306"),
        format!("MYSQL_PORT_3306_TCP_ADDR={db_ip}"),
        "MYSQL_PORT_3306_TCP_PORT=3306".to_string(),
        "MYSQL_PORT_3306_TCP_PROTO=tcp".to_string(),
        "MYSQL_NAME=/web/mysql".to_string(),
        "MYSQL_ENV_MYSQL_ROOT_PASSWORD=secret".to_string(),
    ] {
        assert!(env.lines().any(|l| l == want), "{want} missing in {env}");
    }
    let short = &b.id_of("db")[..12];
    let hosts = b.run(&["exec", "web", "cat", "/etc/hosts"]).ok().stdout;
    assert!(
        hosts.contains(&format!("{db_ip}\tmysql {short} db\n")),
        "{hosts}"
    );
    assert_eq!(
        b.inspect("web")["HostConfig"]["Links"],
        serde_json::json!(["/db:/web/mysql"])
    );
    let names = b.run(&["ps", "--format", "{{.Names}}"]).ok().stdout;
    assert!(names.lines().any(|l| l == "db,web/mysql"), "{names}");
    // A link needs a running container.
    b.run(&["stop", "-t", "0", "db"]).ok();
    let e = b
        .run(&["run", "--rm", "--link", "db:mysql", "busybox", "true"])
        .fails(125);
    assert!(
        e.stderr
            .contains("Cannot link to a non running container: /db AS /"),
        "{e:?}"
    );
    let e = b
        .run(&["run", "--rm", "--link", "nosuch:x", "busybox", "true"])
        .fails(125);
    assert!(
        e.stderr
            .contains("could not get container for nosuch: No such container: nosuch"),
        "{e:?}"
    );
    b.run(&["rm", "-f", "db", "web"]).ok();
    assert_no_network_left(&b);
}

#[test]
#[ignore = "needs root"]
fn todo_app_upgrade_keeps_its_data_behind_the_same_published_port() {
    // The seed's todo app: v1 behind -p PORT:80 stores items in a volume; v2 replaces it on
    // the same volume and port and shows v1's data.
    let b = Berth::new();
    b.busybox("busybox");
    let app = |version: &str| {
        format!(
            "mkdir -p /www/cgi-bin && \
             printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho \"$QUERY_STRING\" >> /data/todos\\necho added\\n' > /www/cgi-bin/add && \
             printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho {version}:\\ncat /data/todos\\n' > /www/cgi-bin/list && \
             chmod +x /www/cgi-bin/*"
        )
    };
    for v in ["v1", "v2"] {
        b.run(&[
            "run",
            "--name",
            &format!("build-{v}"),
            "busybox",
            "sh",
            "-c",
            &app(v),
        ])
        .ok();
        b.run(&[
            "commit",
            "-c",
            "CMD [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]",
            "-c",
            "EXPOSE 80",
            &format!("build-{v}"),
            &format!("todo:{v}"),
        ])
        .ok();
        b.run(&["rm", &format!("build-{v}")]).ok();
    }
    let port = free_port().to_string();
    let publish = format!("{port}:80");
    b.run_d(&[
        "--name",
        "todo",
        "-p",
        &publish,
        "-v",
        "todo-data:/data",
        "todo:v1",
    ]);
    let base = format!("http://127.0.0.1:{port}/cgi-bin");
    assert_eq!(curl_ok(&format!("{base}/add?milk")), "added\n");
    assert_eq!(curl_ok(&format!("{base}/add?eggs")), "added\n");
    assert_eq!(curl_ok(&format!("{base}/list")), "v1:\nmilk\neggs\n");
    b.run(&["stop", "todo"]).ok();
    b.run(&["rm", "todo"]).ok();
    b.run_d(&[
        "--name",
        "todo",
        "-p",
        &publish,
        "-v",
        "todo-data:/data",
        "todo:v2",
    ]);
    assert_eq!(curl_ok(&format!("{base}/list")), "v2:\nmilk\neggs\n");
    assert_eq!(
        curl_ok(&format!("http://{}:{port}/cgi-bin/list", host_ip())),
        "v2:\nmilk\neggs\n"
    );
    b.run(&["rm", "-f", "todo"]).ok();
    assert_no_network_left(&b);
}

#[test]
#[ignore = "needs root"]
fn user_networks_resolve_names_and_aliases() {
    let b = Berth::new();
    b.busybox("busybox");
    let id = b
        .run(&["network", "create", "--label", "tier=front", "front"])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert!(is_full_id(&id));
    let net = b.run(&["network", "inspect", "front"]).ok();
    let net: serde_json::Value = serde_json::from_str(&net.stdout).unwrap();
    let subnet = net[0]["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        b.net
            .block
            .contains(&subnet.parse::<ipnet::Ipv4Net>().unwrap().network()),
        "{subnet} is from the root's pool"
    );
    assert_eq!(net[0]["Labels"], serde_json::json!({"tier": "front"}));
    assert_eq!(net[0]["Driver"], "bridge");
    assert_eq!(
        b.run(&[
            "network",
            "ls",
            "--filter",
            "label=tier=front",
            "--format",
            "{{.Name}} {{.Driver}} {{.Scope}}"
        ])
        .ok()
        .stdout,
        "front bridge local\n"
    );
    b.run_d(&[
        "--name",
        "api",
        "--network",
        "front",
        "--network-alias",
        "backend",
        "busybox",
        "sh",
        "-c",
        &httpd(80, "api here"),
    ]);
    let api_ip = b.inspect("api")["NetworkSettings"]["Networks"]["front"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let short = b.id_of("api")[..12].to_string();
    for name in ["api", "backend", short.as_str()] {
        let out = b
            .run(&[
                "run",
                "--rm",
                "--network",
                "front",
                "busybox",
                "nslookup",
                name,
            ])
            .ok()
            .stdout;
        assert!(out.contains(&format!("Address: {api_ip}")), "{name}: {out}");
    }
    let page = b
        .run(&[
            "run",
            "--rm",
            "--network",
            "front",
            "busybox",
            "wget",
            "-q",
            "-O-",
            "http://backend/",
        ])
        .ok()
        .stdout;
    assert_eq!(page, "api here\n");
    let rc = b
        .run(&[
            "run",
            "--rm",
            "--network",
            "front",
            "busybox",
            "cat",
            "/etc/resolv.conf",
        ])
        .ok()
        .stdout;
    let gw = net[0]["IPAM"]["Config"][0]["Gateway"].as_str().unwrap();
    assert!(rc.contains(&format!("nameserver {gw}\n")), "{rc}");
    assert!(rc.contains("ndots:0"), "{rc}");
    let ep = &b.inspect("api")["NetworkSettings"]["Networks"]["front"];
    assert_eq!(ep["Aliases"], serde_json::json!(["backend", short]));
    assert_eq!(ep["NetworkID"], id.as_str());
    // In use: not removed.
    let e = b.run(&["network", "rm", "front"]).fails(1);
    assert_eq!(
        e.stderr,
        format!("Error response from daemon: error while removing network: network front id {id} has active endpoints\n")
    );
    // A static address, on a second network connected to the running container.
    let sub2 = b.net.subnet(3);
    let fixed = Ipv4Addr::from(u32::from(sub2.network()) + 77).to_string();
    b.run(&["network", "create", "--subnet", &sub2.to_string(), "back"])
        .ok();
    b.run(&[
        "network", "connect", "--alias", "store", "--ip", &fixed, "back", "api",
    ])
    .ok();
    let addrs = b.run(&["exec", "api", "ip", "-4", "addr"]).ok().stdout;
    assert!(addrs.contains(&format!("inet {fixed}/24")), "{addrs}");
    let out = b
        .run(&[
            "run",
            "--rm",
            "--network",
            "back",
            "busybox",
            "nslookup",
            "store",
        ])
        .ok()
        .stdout;
    assert!(out.contains(&format!("Address: {fixed}")), "{out}");
    let e = b.run(&["network", "connect", "back", "api"]).fails(1);
    assert_eq!(
        e.stderr,
        "Error response from daemon: endpoint with name api already exists in network back\n"
    );
    b.run(&["network", "disconnect", "back", "api"]).ok();
    let addrs = b.run(&["exec", "api", "ip", "-4", "addr"]).ok().stdout;
    assert!(!addrs.contains(&fixed), "{addrs}");
    let e = b.run(&["network", "disconnect", "back", "api"]).fails(1);
    assert!(
        e.stderr.contains("is not connected to network back"),
        "{e:?}"
    );
    // Internal networks do not reach the host.
    b.run(&["network", "create", "--internal", "closed"]).ok();
    b.run(&[
        "run",
        "--rm",
        "--network",
        "closed",
        "busybox",
        "ping",
        "-c",
        "1",
        "-W",
        "2",
        &host_ip(),
    ])
    .fails(1);
    b.run(&["rm", "-f", "api"]).ok();
    b.run(&["network", "rm", "front", "back"]).ok();
    assert_eq!(
        b.run(&["network", "prune", "-f"]).ok().stdout,
        "Deleted Networks:\nclosed\n\n"
    );
    assert_eq!(
        b.run(&["network", "ls", "--format", "{{.Name}}"])
            .ok()
            .stdout,
        "bridge\nhost\nnone\n"
    );
    assert_no_network_left(&b);
}

#[test]
#[ignore = "needs root"]
fn etc_files_are_written_as_docker_writes_them() {
    let b = Berth::new();
    b.busybox("busybox");
    let gw = Ipv4Addr::from(u32::from(b.net.subnet(0).network()) + 1).to_string();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-h",
            "myhost",
            "--domainname",
            "example.com",
            "--add-host",
            "foo:1.2.3.4",
            "--add-host",
            "gw:host-gateway",
            "--dns",
            "1.1.1.1",
            "--dns-search",
            "a.example",
            "--dns-option",
            "ndots:2",
            "busybox",
            "sh",
            "-c",
            "cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; cat /etc/hostname",
        ])
        .ok()
        .stdout;
    let ip = Ipv4Addr::from(u32::from(b.net.subnet(0).network()) + 2);
    assert_eq!(
        out,
        format!(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n\
             1.2.3.4\tfoo\n{gw}\tgw\n{ip}\tmyhost.example.com myhost\n---\n\
             search a.example\nnameserver 1.1.1.1\noptions ndots:2\n---\nmyhost\n"
        )
    );
    // Without --dns: the host's resolv.conf minus loopback name servers.
    let host_rc = std::fs::read_to_string("/etc/resolv.conf").unwrap();
    let rc = b
        .run(&["run", "--rm", "busybox", "cat", "/etc/resolv.conf"])
        .ok()
        .stdout;
    let servers: Vec<&str> = host_rc
        .lines()
        .filter(|l| l.starts_with("nameserver") && !l.contains(" 127.") && !l.contains(" ::1"))
        .collect();
    for s in &servers {
        assert!(rc.contains(s), "{rc}");
    }
    // --network none: Docker's hosts file and the container's own name.
    let out = b
        .run(&[
            "run",
            "--rm",
            "--network",
            "none",
            "--add-host",
            "x:10.1.1.1",
            "busybox",
            "cat",
            "/etc/hosts",
        ])
        .ok()
        .stdout;
    assert!(
        out.ends_with("ff02::2\tip6-allrouters\n10.1.1.1\tx\n"),
        "{out}"
    );
    let e = b
        .run(&["run", "--rm", "--add-host", "bad", "busybox", "true"])
        .fails(125);
    assert!(
        e.stderr.contains("bad format for add-host: \"bad\""),
        "{e:?}"
    );
    // Docker 20.10 writes the three files at every start: a container's edits do not survive
    // a restart (checked against dockerd: `docker restart` rewrites hosts, resolv.conf and
    // hostname).
    b.run_d(&["--name", "ed", "busybox", "sleep", "1000"]);
    b.run(&[
        "exec",
        "ed",
        "sh",
        "-c",
        "echo '9.9.9.9 mine' >> /etc/hosts; echo edited > /etc/hostname",
    ])
    .ok();
    assert!(b
        .run(&["exec", "ed", "cat", "/etc/hosts"])
        .ok()
        .stdout
        .contains("mine"));
    b.run(&["restart", "-t", "0", "ed"]).ok();
    assert!(!b
        .run(&["exec", "ed", "cat", "/etc/hosts"])
        .ok()
        .stdout
        .contains("mine"));
    let short = &b.id_of("ed")[..12];
    assert_eq!(
        b.run(&["exec", "ed", "cat", "/etc/hostname"]).ok().stdout,
        format!("{short}\n")
    );
    b.run(&["rm", "-f", "ed"]).ok();
}

#[test]
#[ignore = "needs root"]
fn network_lifetime_follows_the_container_whoever_stops_it() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&["network", "create", "life"]).ok();
    let port = free_port();
    // Exit by itself: the shim tears down.
    b.run(&[
        "run",
        "--name",
        "quick",
        "--network",
        "life",
        "-p",
        &format!("{port}:80"),
        "busybox",
        "true",
    ])
    .ok();
    assert_no_network_left(&b);
    TcpListener::bind(("0.0.0.0", port)).expect("port released at exit");
    // stop, kill.
    b.run_d(&[
        "--name",
        "stopped",
        "--network",
        "life",
        "busybox",
        "sleep",
        "1000",
    ]);
    b.run_d(&[
        "--name",
        "killed",
        "-p",
        &format!("{port}:80"),
        "busybox",
        "sleep",
        "1000",
    ]);
    assert_eq!(namespaces(&b).len(), 2);
    b.run(&["stop", "-t", "1", "stopped"]).ok();
    b.run(&["kill", "killed"]).ok();
    assert_no_network_left(&b);
    // --rm.
    b.run(&["run", "--rm", "--network", "life", "busybox", "true"])
        .ok();
    assert_no_network_left(&b);
    // The shim killed: the next command's repair pass tears down.
    let id = b.run_d(&[
        "--name",
        "orphan",
        "--network",
        "life",
        "-p",
        &format!("{port}:80"),
        "busybox",
        "sleep",
        "1000",
    ]);
    assert_eq!(namespaces(&b).len(), 1);
    for pid in shim_pids(&id) {
        kill9(pid as i64);
    }
    assert_eq!(b.status_of("orphan"), "exited");
    assert_no_network_left(&b);
    TcpListener::bind(("0.0.0.0", port)).expect("port released by the repair");
    // rm -f of a running container.
    b.run(&["start", "orphan"]).ok();
    assert_eq!(namespaces(&b).len(), 1);
    b.run(&["rm", "-f", "orphan"]).ok();
    assert_no_network_left(&b);
    // A restart policy brings the container back with its network.
    b.run_d(&[
        "--name",
        "again",
        "--restart",
        "on-failure:1",
        "-p",
        &format!("{port}:80"),
        "busybox",
        "sh",
        "-c",
        &format!(
            "test -e /tmp/second && {} ; touch /tmp/second; exit 3",
            httpd(80, "second life")
        ),
    ]);
    assert_eq!(
        curl_ok(&format!("http://127.0.0.1:{port}/")),
        "second life\n"
    );
    b.run(&["rm", "-f", "again", "stopped", "killed", "quick"])
        .ok();
    b.run(&["network", "rm", "life"]).ok();
    assert_no_network_left(&b);
}

/// The chains of the network whose ID starts with `tag` (`iptables-save` declarations).
fn chains_of_network(tag: &str) -> Vec<String> {
    let out = std::process::Command::new("iptables-save")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(":BERTH-") && l.contains(tag))
        .map(|l| l[1..].split(' ').next().unwrap().to_string())
        .collect()
}

/// Deletes the chains of the network whose ID starts with `tag`, and the jumps to them, the
/// way an admin's `iptables -F`/`-X` would.
fn delete_chains_behind_berths_back(tag: &str) {
    for table in ["nat", "filter"] {
        let out = std::process::Command::new("iptables")
            .args(["-t", table, "-S"])
            .output()
            .unwrap();
        for rule in String::from_utf8_lossy(&out.stdout).lines() {
            let Some(rest) = rule.strip_prefix("-A ") else {
                continue;
            };
            if rule.contains(tag) && !rest.starts_with("BERTH-") {
                let args: Vec<&str> = rest.split_whitespace().collect();
                let st = std::process::Command::new("iptables")
                    .args(["-t", table, "-D"])
                    .args(&args)
                    .status()
                    .unwrap();
                assert!(st.success(), "iptables -t {table} -D {rest}");
            }
        }
    }
    for c in chains_of_network(tag) {
        let table = if c.starts_with("BERTH-FWD-") {
            "filter"
        } else {
            "nat"
        };
        for op in ["-F", "-X"] {
            let st = std::process::Command::new("iptables")
                .args(["-t", table, op, &c])
                .status()
                .unwrap();
            assert!(st.success(), "iptables -t {table} {op} {c}");
        }
    }
}

/// A network's own host state — its bridge, its address, its NAT and forwarding chains — is
/// made by its first container, stays when the last one leaves (so the next container on it
/// does no firewall work unless it publishes ports), comes back when it was removed behind
/// berth's back, and goes with `network rm`.
#[test]
#[ignore = "needs root"]
fn network_rules_live_as_long_as_the_network() {
    let b = Berth::new();
    b.busybox("busybox");
    let subnet = b.net.subnet(3);
    b.run(&["network", "create", "--subnet", &subnet.to_string(), "keep"])
        .ok();
    let id = b
        .run(&["network", "inspect", "-f", "{{.Id}}", "keep"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let tag = &id[..12];
    let bridge = || crate::net_harness::bridges_in(subnet);
    assert_eq!(
        chains_of_network(tag),
        Vec::<String>::new(),
        "nothing before first use"
    );
    assert_eq!(bridge(), Vec::<String>::new());
    b.run(&["run", "--rm", "--network", "keep", "busybox", "true"])
        .ok();
    // The last container left: the network's part stays, the container's is gone.
    let mut chains = chains_of_network(tag);
    chains.sort();
    assert_eq!(
        chains,
        [
            format!("BERTH-DNAT-{tag}"),
            format!("BERTH-FWD-{tag}"),
            format!("BERTH-POST-{tag}")
        ]
    );
    assert_eq!(bridge().len(), 1, "the bridge stays");
    assert_no_network_left(&b);
    // Removed behind berth's back (chains and bridge): the next container puts them back,
    // and its published port works.
    delete_chains_behind_berths_back(tag);
    let br = bridge().pop().unwrap();
    assert!(std::process::Command::new("ip")
        .args(["link", "del", &br])
        .status()
        .unwrap()
        .success());
    let port = free_port();
    b.run_d(&[
        "--name",
        "web",
        "--network",
        "keep",
        "-p",
        &format!("{port}:80"),
        "busybox",
        "sh",
        "-c",
        &httpd(80, "back again"),
    ]);
    assert_eq!(
        curl_ok(&format!("http://127.0.0.1:{port}/")),
        "back again\n"
    );
    // The container reaches its own published port through the host's address (hairpin).
    let own = b
        .run(&[
            "exec",
            "web",
            "sh",
            "-c",
            &format!(
                "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {} {port} | tail -n 1",
                host_ip()
            ),
        ])
        .ok()
        .stdout;
    assert_eq!(own, "back again\n");
    assert_eq!(chains_of_network(tag).len(), 3, "the chains are back");
    // Only the chains gone (the bridge kept): a container publishing a port finds its chain
    // missing and sets the network up again.
    delete_chains_behind_berths_back(tag);
    let port2 = free_port();
    b.run_d(&[
        "--name",
        "web2",
        "--network",
        "keep",
        "-p",
        &format!("{port2}:80"),
        "busybox",
        "sh",
        "-c",
        &httpd(80, "second"),
    ]);
    assert_eq!(curl_ok(&format!("http://127.0.0.1:{port2}/")), "second\n");
    b.run(&["rm", "-f", "web", "web2"]).ok();
    assert_no_network_left(&b);
    assert_eq!(chains_of_network(tag).len(), 3);
    // Removed behind berth's back with nothing running: the boot-time repair restores them.
    delete_chains_behind_berths_back(tag);
    b.run(&["system", "boot"]).ok();
    assert_eq!(chains_of_network(tag).len(), 3, "system boot restored them");
    // network rm removes the network's part too.
    b.run(&["network", "rm", "keep"]).ok();
    assert_eq!(chains_of_network(tag), Vec::<String>::new());
    assert_eq!(bridge(), Vec::<String>::new());
    assert_no_network_left(&b);
}

/// What container `from` gets from an HTTP server at `ip:port` (empty when it gets nothing
/// within 5 seconds).
fn fetch_from(b: &Berth, from: &str, ip: &str, port: u16) -> String {
    b.run(&[
        "exec",
        from,
        "sh",
        "-c",
        &format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {ip} {port} | tail -n 1"),
    ])
    .stdout
}

/// The address of container `name` on network `net`.
fn ip_on(b: &Berth, name: &str, net: &str) -> String {
    s(&b.inspect(name)["NetworkSettings"]["Networks"][net]["IPAddress"]).to_string()
}

/// A container `name` on `net` serving its name with httpd on port 80 (checked from the host,
/// which reaches every bridge directly), with `extra` arguments to `run`.
fn server_on(b: &Berth, name: &str, net: &str, extra: &[&str]) -> String {
    let mut args = vec!["--name", name, "--network", net];
    args.extend_from_slice(extra);
    let cmd = httpd(80, name);
    args.extend_from_slice(&["busybox", "sh", "-c", &cmd]);
    b.run_d(&args);
    let ip = ip_on(b, name, net);
    assert_eq!(curl_ok(&format!("http://{ip}/")), format!("{name}\n"));
    ip
}

/// Asserts that container `from` gets nothing from the server at `ip` port 80.
#[track_caller]
fn assert_cut_off(b: &Berth, from: &str, ip: &str, what: &str) {
    assert_eq!(fetch_from(b, from, ip, 80), "", "{what}");
}

/// `network create --subnet` (the root's `n`-th /24) `extra` `name`.
fn create_network(b: &Berth, name: &str, n: u32, extra: &[&str]) {
    let subnet = b.net.subnet(n).to_string();
    let mut args = vec!["network", "create", "--subnet", &subnet];
    args.extend_from_slice(extra);
    args.push(name);
    b.run(&args).ok();
}

/// Bridge networks are isolated from each other as Docker's are (checked against dockerd
/// 20.10): a container reaches a container of another network only once connected to it, and
/// only through its interface there; the default bridge and `--internal` networks are cut off
/// the same way; a published port stays reachable from every network through a host address
/// (Docker's proxy serves it). The isolation rules go with their network, and the chains with
/// the last network.
#[test]
#[ignore = "needs root"]
fn bridge_networks_are_isolated_from_each_other() {
    let b = Berth::new();
    b.busybox("busybox");
    let [stage1, stage2] = crate::net_harness::isolation_chains(&b.exec_root());
    create_network(&b, "na", 1, &[]);
    create_network(&b, "nb", 2, &[]);
    let a = server_on(&b, "sa", "na", &[]);
    let port = free_port();
    let published = format!("{port}:80");
    let bb = server_on(&b, "sb", "nb", &["-p", &published]);
    assert_cut_off(&b, "sa", &bb, "na reaches nb");
    assert_cut_off(&b, "sb", &a, "nb reaches na");
    let gw_a = s(&b.inspect("sa")["NetworkSettings"]["Networks"]["na"]["Gateway"]).to_string();
    assert_eq!(
        fetch_from(&b, "sa", &gw_a, port),
        "sb\n",
        "a published port"
    );
    let rules = crate::net_harness::isolation_rules(&b.exec_root());
    assert_eq!(
        rules
            .iter()
            .filter(|r| r.starts_with(&format!("-A {stage2} ")))
            .count(),
        2,
        "one drop per network: {rules:?}"
    );
    // Connected to nb too, sa reaches sb through its interface on nb; sb still does not
    // reach sa's address on na.
    b.run(&["network", "connect", "nb", "sa"]).ok();
    assert_eq!(fetch_from(&b, "sa", &bb, 80), "sb\n");
    assert_cut_off(&b, "sb", &a, "nb reaches na through sa's address there");
    assert_eq!(fetch_from(&b, "sb", &ip_on(&b, "sa", "nb"), 80), "sa\n");
    b.run(&["network", "disconnect", "nb", "sa"]).ok();
    assert_cut_off(&b, "sa", &bb, "isolated again");
    // An internal network is cut off from the others too.
    create_network(&b, "ni", 3, &["--internal"]);
    let i = server_on(&b, "si", "ni", &[]);
    assert_cut_off(&b, "sa", &i, "na reaches the internal network");
    assert_cut_off(&b, "si", &a, "the internal network reaches na");
    // Each network's rules go with it; the chains with the last network.
    b.run(&["rm", "-f", "sa", "sb", "si"]).ok();
    let br_a = format!(
        "br-{}",
        &b.run(&["network", "inspect", "-f", "{{.Id}}", "na"])
            .ok()
            .stdout[..12]
    );
    b.run(&["network", "rm", "na"]).ok();
    let rules = crate::net_harness::isolation_rules(&b.exec_root());
    assert!(!rules.iter().any(|r| r.contains(&br_a)), "{rules:?}");
    assert_eq!(
        rules.len(),
        5,
        "nb's and ni's rules and the published-port exception: {rules:?}"
    );
    assert_no_network_left(&b);
    b.run(&["network", "prune", "-f"]).ok();
    assert_eq!(
        crate::net_harness::isolation_rules(&b.exec_root()),
        Vec::<String>::new()
    );
    let all = String::from_utf8_lossy(
        &std::process::Command::new("iptables-save")
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    assert!(!all.contains(&stage1) && !all.contains(&stage2), "{all}");
    assert_no_network_left(&b);
    // The default bridge is isolated from user-defined networks both ways.
    create_network(&b, "nc", 1, &[]);
    let c = server_on(&b, "sc", "nc", &[]);
    let d = server_on(&b, "sd", "bridge", &[]);
    assert_cut_off(&b, "sd", &c, "the default bridge reaches nc");
    assert_cut_off(&b, "sc", &d, "nc reaches the default bridge");
    b.run(&["network", "connect", "nc", "sd"]).ok();
    assert_eq!(fetch_from(&b, "sd", &c, 80), "sc\n");
    b.run(&["rm", "-f", "sc", "sd"]).ok();
    b.run(&["network", "rm", "nc"]).ok();
    assert_no_network_left(&b);
}

/// berth's networks are IPv4 only: every way of asking `network create` for IPv6 is refused
/// with an error saying so, and creates nothing (no silent drop).
#[test]
#[ignore = "needs root"]
fn ipv6_networks_are_refused_with_a_clear_error() {
    let b = Berth::new();
    let v4 = b.net.subnet(2).to_string();
    let cases: [&[&str]; 5] = [
        &["--ipv6"],
        &["--ipv6", "--subnet", "fd00:1::/64"],
        &["--subnet", "fd00:1::/64"],
        &["--subnet", &v4, "--gateway", "fd00:1::1"],
        &["--subnet", &v4, "--aux-address", "a=fd00:1::9"],
    ];
    for flags in cases {
        let mut args = vec!["network", "create"];
        args.extend_from_slice(flags);
        args.push("v6");
        let e = b.run(&args).fails(1).stderr;
        assert!(
            e.starts_with("Error response from daemon: berth networks are IPv4 only"),
            "{flags:?}: {e}"
        );
    }
    // A second (IPv6) subnet beside an IPv4 one: refused by the command line.
    let e = b
        .run(&[
            "network",
            "create",
            "--subnet",
            &v4,
            "--subnet",
            "fd00:1::/64",
            "v6",
        ])
        .fails(125)
        .stderr;
    assert!(e.contains("berth networks take one IPv4 subnet"), "{e}");
    assert_eq!(
        b.run(&["network", "ls", "--filter", "type=custom", "-q"])
            .ok()
            .stdout,
        ""
    );
}

#[test]
#[ignore = "needs root"]
fn none_host_and_container_modes() {
    let b = Berth::new();
    b.busybox("busybox");
    let lo = b
        .run(&[
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "ip",
            "-o",
            "link",
        ])
        .ok()
        .stdout;
    assert_eq!(lo.lines().count(), 1, "{lo}");
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        b.run(&["run", "--rm", "--network", "host", "busybox", "hostname"])
            .ok()
            .stdout,
        hostname
    );
    b.run_d(&[
        "--name",
        "owner",
        "busybox",
        "sh",
        "-c",
        &httpd(8080, "shared"),
    ]);
    let out = b
        .run(&[
            "run",
            "--rm",
            "--network",
            "container:owner",
            "busybox",
            "wget",
            "-q",
            "-O-",
            "http://127.0.0.1:8080/",
        ])
        .ok()
        .stdout;
    assert_eq!(out, "shared\n");
    let e = b
        .run(&[
            "run",
            "--rm",
            "--network",
            "container:owner",
            "-p",
            "80",
            "busybox",
            "true",
        ])
        .fails(125);
    assert!(
        e.stderr
            .contains("conflicting options: port publishing and the container type network mode"),
        "{e:?}"
    );
    let e = b
        .run(&[
            "run",
            "--rm",
            "--network",
            "container:owner",
            "-h",
            "x",
            "busybox",
            "true",
        ])
        .fails(125);
    assert!(
        e.stderr
            .contains("conflicting options: hostname and the network mode"),
        "{e:?}"
    );
    let e = b
        .run(&["run", "--rm", "--network", "nosuch", "busybox", "true"])
        .fails(125);
    assert!(e.stderr.contains("network nosuch not found"), "{e:?}");
    b.run(&["rm", "-f", "owner"]).ok();
    assert_no_network_left(&b);
}

#[test]
#[ignore = "needs root"]
fn network_commands_answer_with_dockers_words() {
    let b = Berth::new();
    b.busybox("busybox");
    let e = b.run(&["network", "rm", "bridge"]).fails(1);
    assert_eq!(
        e.stderr,
        "Error response from daemon: bridge is a pre-defined network and cannot be removed\n"
    );
    let e = b.run(&["network", "inspect", "nosuch"]).fails(1);
    assert_eq!(e.stdout, "[]\n");
    assert_eq!(e.stderr, "Error: No such network: nosuch\n");
    b.run(&["network", "create", "dup"]).ok();
    let e = b.run(&["network", "create", "dup"]).fails(1);
    assert_eq!(
        e.stderr,
        "Error response from daemon: network with name dup already exists\n"
    );
    let sub = b.net.subnet(3).to_string();
    b.run(&["network", "create", "--subnet", &sub, "one"]).ok();
    let e = b
        .run(&["network", "create", "--subnet", &sub, "two"])
        .fails(1);
    assert_eq!(
        e.stderr,
        "Error response from daemon: Pool overlaps with other one on this address space\n"
    );
    let e = b.run(&["network", "create", "-d", "nope", "x"]).fails(1);
    assert_eq!(
        e.stderr,
        "Error response from daemon: plugin \"nope\" not found\n"
    );
    let e = b
        .run(&["run", "--rm", "--ip", "10.0.0.5", "busybox", "true"])
        .fails(125);
    assert!(
        e.stderr
            .contains("user specified IP address is supported on user defined networks only"),
        "{e:?}"
    );
    for (flag, msg) in [
        ("70000:80", "Invalid hostPort: 70000"),
        ("1.2.3:80:80", "Invalid ip address: 1.2.3"),
        (
            "8000-8001:80-82",
            "Invalid ranges specified for container and host Ports: 80-82 and 8000-8001",
        ),
    ] {
        let e = b
            .run(&["run", "--rm", "-p", flag, "busybox", "true"])
            .fails(125);
        assert!(e.stderr.contains(msg), "{flag}: {e:?}");
    }
    assert_eq!(
        b.run(&[
            "network",
            "ls",
            "--filter",
            "type=custom",
            "--format",
            "{{.Name}}"
        ])
        .ok()
        .stdout,
        "dup\none\n"
    );
    b.run(&["network", "rm", "dup", "one"]).ok();
}
