//! Networks through `berth serve`: the `/networks` endpoints with curl, the real docker CLI
//! (`network …`, `run -p`, `port`), Docker's Python SDK (the calls of docker-py's network tests)
//! and docker-compose 1.29 bringing up two services that find each other by name.

use std::net::TcpListener;
use std::process::Command;

use crate::api::{docker_py, DockerCli, Server};
use crate::harness::*;
use crate::net_harness::leftovers_of;

fn free_port() -> u16 {
    TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn curl(url: &str) -> Option<String> {
    let out = Command::new("curl")
        .args(["-s", "-f", "-m", "5", url])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn networks_through_the_api_and_the_docker_cli() {
    let d = DockerCli::start();
    let b = &d.b;
    let api = &d.api;
    let (code, body) = api.call("GET", "/networks", None);
    assert_eq!(code, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bridge", "host", "none"]);
    let (code, body) = api.call(
        "POST",
        "/networks/create",
        Some(r#"{"Name": "front", "Labels": {"tier": "front"}, "CheckDuplicate": true}"#),
    );
    assert_eq!(code, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(is_full_id(created["Id"].as_str().unwrap()), "{body}");
    assert_eq!(created["Warning"], "");
    let (code, body) = api.call("POST", "/networks/create", Some(r#"{"Name": "front"}"#));
    assert_eq!(
        (code, body.as_str()),
        (
            409,
            r#"{"message":"network with name front already exists"}"#
        )
    );
    assert_eq!(
        api.call("GET", "/networks/nosuch", None),
        (404, r#"{"message":"network nosuch not found"}"#.into())
    );
    let (code, body) = api.call("GET", "/networks/front", None);
    assert_eq!(code, 200);
    let net: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(net["Labels"]["tier"], "front");
    assert_eq!(net["Scope"], "local");

    // The docker CLI: networks, a service found by alias, a published port.
    let (code, out, err) = d.run(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "bridge bridge\nfront bridge\nhost host\nnone null\n");
    let subnet = b.net.subnet(3).to_string();
    let (code, _, err) = d.run(&["network", "create", "--subnet", &subnet, "back"]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = d.run(&[
        "network",
        "inspect",
        "back",
        "-f",
        "{{.Name}} {{(index .IPAM.Config 0).Subnet}}",
    ]);
    assert_eq!(out, format!("back {subnet}\n"));
    let (code, _, err) = d.run(&[
        "run",
        "-d",
        "--name",
        "api",
        "--network",
        "back",
        "--network-alias",
        "service",
        "busybox",
        "sh",
        "-c",
        "mkdir /w && echo from-api > /w/index.html && exec httpd -f -p 80 -h /w",
    ]);
    assert_eq!(code, 0, "{err}");
    let page = wait_until("the service to answer by alias", SOON, || {
        let (code, out, _) = d.run(&[
            "run",
            "--rm",
            "--network",
            "back",
            "busybox",
            "wget",
            "-q",
            "-O-",
            "http://service/",
        ]);
        (code == 0).then_some(out)
    });
    assert_eq!(page, "from-api\n");
    let port = free_port();
    let (code, _, err) = d.run(&[
        "run",
        "-d",
        "--name",
        "pub",
        "-p",
        &format!("{port}:80"),
        "busybox",
        "sh",
        "-c",
        "mkdir /w && echo published > /w/index.html && exec httpd -f -p 80 -h /w",
    ]);
    assert_eq!(code, 0, "{err}");
    let page = wait_until("the published port", SOON, || {
        curl(&format!("http://127.0.0.1:{port}/"))
    });
    assert_eq!(page, "published\n");
    let (_, out, _) = d.run(&["port", "pub"]);
    assert_eq!(out, format!("80/tcp -> 0.0.0.0:{port}\n"));
    let (_, out, _) = d.run(&["ps", "--filter", "name=pub", "--format", "{{.Ports}}"]);
    assert_eq!(out, format!("0.0.0.0:{port}->80/tcp\n"));
    let (code, _, err) = d.run(&["network", "connect", "--alias", "edge", "back", "pub"]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = d.run(&[
        "inspect",
        "pub",
        "-f",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
    ]);
    assert_eq!(out, "back bridge \n");
    let (code, _, err) = d.run(&["network", "disconnect", "back", "pub"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = d.run(&["network", "rm", "back"]);
    assert_eq!(code, 1);
    assert!(err.contains("has active endpoints"), "{err}");
    d.run(&["rm", "-f", "api", "pub"]);
    let (code, out, err) = d.run(&["network", "prune", "-f"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Deleted Networks:\nback\nfront\n\n");
    assert_eq!(leftovers_of(b), Vec::<String>::new());
}

/// The calls docker-py's network integration tests make (tests/integration/api_network_test.py
/// of docker-py 7.1.0), on berth's data root: IPAM pools with ranges, gateways and auxiliary
/// addresses, aliases and static addresses at create and connect, links on a user-defined
/// network that resolve once the linked container runs, a MAC address at connect, labels,
/// internal networks, prune.
#[test]
fn docker_py_network_calls() {
    let b = Berth::new();
    b.busybox("busybox");
    let api = Server::start(&b);
    let sub = b.net.subnet(2);
    let net = |i: u32| std::net::Ipv4Addr::from(u32::from(sub.network()) + i).to_string();
    let script = format!(
        r#"
import sys, docker
from docker.types import IPAMConfig, IPAMPool
c = docker.APIClient(base_url='unix://' + sys.argv[1], version='1.41')
ipam = IPAMConfig(driver='default', pool_configs=[IPAMPool(subnet='{sub}', iprange='{range}', gateway='{gw}', aux_addresses={{'a': '{aux}'}})])
nid = c.create_network('pynet', ipam=ipam, labels={{'com.docker.py.test': 'label'}})['Id']
n = c.inspect_network(nid)
assert n['IPAM'].pop('Options', None) is None, n['IPAM']
assert n['IPAM']['Config'] == [{{'Subnet': '{sub}', 'IPRange': '{range}', 'Gateway': '{gw}', 'AuxiliaryAddresses': {{'a': '{aux}'}}}}], n['IPAM']
assert n['Labels'] == {{'com.docker.py.test': 'label'}}
assert [x['Id'] for x in c.networks(names=['pynet'])] == [nid]
assert [x['Id'] for x in c.networks(ids=[nid[:8]])] == [nid]
try:
    c.create_network('pynet', check_duplicate=True)
    raise SystemExit('duplicate accepted')
except docker.errors.APIError:
    pass
try:
    c.create_network('other', driver='host')
    raise SystemExit('host driver accepted')
except docker.errors.APIError:
    pass
ctr = c.create_container('busybox', 'top', host_config=c.create_host_config(network_mode='pynet'),
    networking_config=c.create_networking_config({{'pynet': c.create_endpoint_config(aliases=['foo', 'bar'], ipv4_address='{fixed}', links=[('upstream', 'up')])}}))
c.start(ctr)
s = c.inspect_container(ctr)['NetworkSettings']['Networks']['pynet']
assert 'foo' in s['Aliases'] and 'bar' in s['Aliases'], s
assert s['IPAMConfig']['IPv4Address'] == '{fixed}', s
assert s['IPAddress'] == '{fixed}', s
assert s['Links'] == ['upstream:up'], s
assert list(c.inspect_network(nid)['Containers'].keys()) == [ctr['Id']]
up = c.create_container('busybox', 'top', name='upstream', host_config=c.create_host_config(network_mode='pynet'))
c.start(up)
e = c.exec_create(ctr, ['nslookup', 'up'])
out = c.exec_start(e).decode()
assert c.exec_inspect(e)['ExitCode'] == 0, out
other = c.create_container('busybox', 'top')
c.connect_container_to_network(other, nid, mac_address='02:42:ac:11:00:02')
assert c.inspect_container(other)['NetworkSettings']['Networks']['pynet']['MacAddress'] == '02:42:ac:11:00:02'
try:
    c.connect_container_to_network(other, nid)
    raise SystemExit('second connect accepted')
except docker.errors.APIError:
    pass
c.disconnect_container_from_network(other, nid)
try:
    c.disconnect_container_from_network(other, nid, force=True)
    raise SystemExit('second disconnect accepted')
except docker.errors.APIError:
    pass
for x in (ctr, up, other):
    c.remove_container(x, force=True)
iid = c.create_network('pyint', internal=True)['Id']
assert c.inspect_network(iid)['Internal'] is True
sid = c.create_network('test 01')['Id']
assert c.inspect_network('test 01')['Id'] == sid
c.remove_network('test 01')
assert c.inspect_network(nid, scope='local')
try:
    c.inspect_network(nid, scope='global')
    raise SystemExit('global scope found')
except docker.errors.NotFound:
    pass
print(sorted(c.prune_networks()['NetworksDeleted']))
"#,
        range = format!("{}/25", net(128)),
        gw = net(254),
        aux = net(128),
        fixed = net(129),
    );
    assert_eq!(docker_py(&api, &script), "['pyint', 'pynet']\n");
    assert_eq!(leftovers_of(&b), Vec::<String>::new());
}

/// docker-compose 1.29 through `berth serve`: a server with a named volume and a published
/// port, a client that reaches it by service name; `up -d`, `ps`, `logs`, `down`, `up -d` again
/// (the volume's data still there), `down -v` (gone, with the project's network).
#[test]
fn docker_compose_runs_two_services_on_their_network() {
    let b = Berth::new();
    b.busybox("busybox");
    let api = Server::start(&b);
    let dir = b.scratch("compose");
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    std::fs::write(
        dir.join("docker-compose.yml"),
        format!(
            r#"version: "3.7"
services:
  server:
    image: busybox
    command: ["sh", "-c", "mkdir -p /data/www && (test -f /data/www/index.html || head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /data/www/index.html) && exec httpd -f -p 80 -h /data/www"]
    volumes: ["data:/data"]
    ports: ["{port}:80"]
  client:
    image: busybox
    command: ["sh", "-c", "while true; do echo \"client got $$(wget -q -O- http://server/)\"; sleep 1; done"]
    depends_on: ["server"]
volumes:
  data: {{}}
"#
        ),
    )
    .unwrap();
    let compose = |args: &[&str]| -> Run {
        let mut c = Command::new("docker-compose");
        // Debian's docker-compose needs Debian's docker-py (5.x), whatever pip installed.
        c.env("PYTHONPATH", "/usr/lib/python3/dist-packages")
            .env("DOCKER_HOST", format!("unix://{}", api.sock.display()))
            .env_remove("DOCKER_CONTEXT")
            .current_dir(&dir)
            .args(["-p", "demo"])
            .args(args);
        output_timeout(c, None, CMD_TIMEOUT)
    };
    compose(&["up", "-d"]).ok();
    let ps = compose(&["ps"]).ok().stdout;
    assert!(ps.contains("demo_server_1"), "{ps}");
    assert!(ps.contains("demo_client_1"), "{ps}");
    assert!(ps.contains(&format!("0.0.0.0:{port}->80/tcp")), "{ps}");
    let token = wait_until("the server to answer on the host", SOON, || {
        curl(&format!("http://127.0.0.1:{port}/")).filter(|t| !t.is_empty())
    });
    let logs = wait_until("the client to reach the server by name", SOON, || {
        let out = compose(&["logs", "client"]).stdout;
        out.contains(&format!("client got {token}")).then_some(out)
    });
    assert!(logs.contains("client_1"), "{logs}");
    compose(&["down"]).ok();
    assert!(b.run(&["ps", "-aq"]).ok().stdout.is_empty());
    assert_eq!(
        b.run(&["network", "ls", "--format", "{{.Name}}"])
            .ok()
            .stdout,
        "bridge\nhost\nnone\n"
    );
    compose(&["up", "-d"]).ok();
    let again = wait_until("the server after the second up", SOON, || {
        curl(&format!("http://127.0.0.1:{port}/")).filter(|t| !t.is_empty())
    });
    assert_eq!(again, token, "the named volume kept the server's data");
    compose(&["down", "-v"]).ok();
    assert!(b.run(&["volume", "ls", "-q"]).ok().stdout.is_empty());
    assert_eq!(leftovers_of(&b), Vec::<String>::new());
}
