// Command goclient drives a Docker Engine API server with moby's Go client package, the way Go
// tools (compose v2, Go programs) do: the client sends Go's zero values, so every unset slice,
// map and pointer arrives as JSON null. The e2e test `go_client` (tests/e2e/go_client.rs) builds
// it in GOPATH mode against Debian's golang-github-docker-docker-dev and runs it against
// `berth serve`; each step prints one line, and any error ends the program with exit 1.
//
// Usage: goclient unix:///path/to/socket [steps]
//
//	steps: lifecycle (create/start/inspect/wait/remove), exec (exec create/start/inspect
//	polled to completion), volumes, lists. Default: all.
//
// Usage: goclient dump
//
//	prints the request bodies the Go client sends for zero-valued and fully populated types
//	(crates/berth-api/src/testdata/go-bodies.json is this output).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	volumetypes "github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/go-connections/nat"
	units "github.com/docker/go-units"
)

func fail(step string, err error) {
	fmt.Printf("%s: error: %v\n", step, err)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: goclient HOST [steps] | goclient dump")
		os.Exit(2)
	}
	if os.Args[1] == "dump" {
		dump()
		return
	}
	steps := "lifecycle,exec,volumes,lists"
	if len(os.Args) > 2 {
		steps = os.Args[2]
	}
	cli, err := client.NewClientWithOpts(client.WithHost(os.Args[1]), client.WithAPIVersionNegotiation())
	if err != nil {
		fail("client", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cli.NegotiateAPIVersion(ctx)
	fmt.Printf("version: %s\n", cli.ClientVersion())
	for _, step := range strings.Split(steps, ",") {
		switch step {
		case "lifecycle":
			lifecycle(ctx, cli)
		case "exec":
			execs(ctx, cli)
		case "volumes":
			volumes(ctx, cli)
		case "lists":
			lists(ctx, cli)
		default:
			fail(step, fmt.Errorf("unknown step"))
		}
	}
}

// lifecycle: a container created with zero-valued HostConfig parts (LogConfig.Config,
// Ulimits, Binds... all null) and a mount whose option pointers are null.
func lifecycle(ctx context.Context, cli *client.Client) {
	cfg := &container.Config{Image: "busybox", Cmd: []string{"sh", "-c", "echo hello > /data/f; exit 3"}}
	host := &container.HostConfig{
		Mounts: []mount.Mount{{Type: mount.TypeVolume, Target: "/data"}},
	}
	created, err := cli.ContainerCreate(ctx, cfg, host, nil, nil, "golife")
	if err != nil {
		fail("create", err)
	}
	fmt.Printf("create: %d warnings\n", len(created.Warnings))
	waitC, errC := cli.ContainerWait(ctx, created.ID, container.WaitConditionNextExit)
	if err := cli.ContainerStart(ctx, created.ID, types.ContainerStartOptions{}); err != nil {
		fail("start", err)
	}
	fmt.Println("start: ok")
	select {
	case res := <-waitC:
		fmt.Printf("wait: %d\n", res.StatusCode)
	case err := <-errC:
		fail("wait", err)
	}
	info, err := cli.ContainerInspect(ctx, created.ID)
	if err != nil {
		fail("inspect", err)
	}
	fmt.Printf("inspect: %s %d %s\n", info.State.Status, info.State.ExitCode, info.Name)
	if err := cli.ContainerRemove(ctx, created.ID, types.ContainerRemoveOptions{RemoveVolumes: true}); err != nil {
		fail("remove", err)
	}
	fmt.Println("remove: ok")
}

// execs: a detached exec polled with exec inspect until it has finished, as Go tools do.
func execs(ctx context.Context, cli *client.Client) {
	created, err := cli.ContainerCreate(ctx, &container.Config{Image: "busybox", Cmd: []string{"sleep", "60"}},
		&container.HostConfig{}, nil, nil, "goexec")
	if err != nil {
		fail("exec create container", err)
	}
	if err := cli.ContainerStart(ctx, created.ID, types.ContainerStartOptions{}); err != nil {
		fail("exec start container", err)
	}
	ex, err := cli.ContainerExecCreate(ctx, created.ID, types.ExecConfig{Cmd: []string{"sh", "-c", "exit 7"}})
	if err != nil {
		fail("exec create", err)
	}
	if err := cli.ContainerExecStart(ctx, ex.ID, types.ExecStartCheck{Detach: true}); err != nil {
		fail("exec start", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		in, err := cli.ContainerExecInspect(ctx, ex.ID)
		if err != nil {
			fail("exec inspect", err)
		}
		if !in.Running {
			fmt.Printf("exec: exit %d\n", in.ExitCode)
			break
		}
		if time.Now().After(deadline) {
			fail("exec inspect", fmt.Errorf("still running after 30 s"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cli.ContainerRemove(ctx, created.ID, types.ContainerRemoveOptions{Force: true}); err != nil {
		fail("exec remove", err)
	}
	fmt.Println("exec remove: ok")
}

// volumes: a create body whose DriverOpts and Labels are null.
func volumes(ctx context.Context, cli *client.Client) {
	v, err := cli.VolumeCreate(ctx, volumetypes.VolumeCreateBody{Name: "govol"})
	if err != nil {
		fail("volume create", err)
	}
	fmt.Printf("volume create: %s %s\n", v.Name, v.Driver)
	if err := cli.VolumeRemove(ctx, v.Name, false); err != nil {
		fail("volume remove", err)
	}
	fmt.Println("volume remove: ok")
}

// lists: filters as the Go client encodes them.
func lists(ctx context.Context, cli *client.Client) {
	cs, err := cli.ContainerList(ctx, types.ContainerListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "nomatch"))})
	if err != nil {
		fail("container list", err)
	}
	fmt.Printf("container list: %d\n", len(cs))
	_, err = cli.ContainerList(ctx, types.ContainerListOptions{Filters: filters.NewArgs(filters.Arg("bogus", "1"))})
	fmt.Printf("container list bogus: %v\n", err)
	imgs, err := cli.ImageList(ctx, types.ImageListOptions{})
	if err != nil {
		fail("image list", err)
	}
	fmt.Printf("image list: %d\n", len(imgs))
}

// createBody is the shape the client posts to /containers/create: the Config's fields with
// HostConfig and NetworkingConfig beside them.
type createBody struct {
	*container.Config
	HostConfig       *container.HostConfig
	NetworkingConfig *network.NetworkingConfig
}

// dump prints, as one JSON object, the bodies the Go client sends: zero values (every slice,
// map and pointer null) and fully populated ones (every nested object present, so that a
// test can null each member in turn).
func dump() {
	full := &container.HostConfig{
		LogConfig:     container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m"}},
		RestartPolicy: container.RestartPolicy{Name: "no"},
		Mounts: []mount.Mount{{
			Type: mount.TypeVolume, Source: "v", Target: "/v",
			BindOptions:   &mount.BindOptions{Propagation: mount.PropagationRPrivate},
			VolumeOptions: &mount.VolumeOptions{Labels: map[string]string{"a": "b"}, DriverConfig: &mount.Driver{Name: "local", Options: map[string]string{}}},
			TmpfsOptions:  &mount.TmpfsOptions{SizeBytes: 1},
		}},
		Tmpfs:        map[string]string{"/t": "size=1m"},
		Binds:        []string{"/a:/b"},
		PortBindings: map[nat.Port][]nat.PortBinding{"80/tcp": {{HostIP: "", HostPort: "8080"}}},
	}
	full.Ulimits = []*units.Ulimit{{Name: "nofile", Soft: 1, Hard: 2}}
	bodies := map[string]interface{}{
		"container_create_zero": createBody{Config: &container.Config{Image: "busybox"}, HostConfig: &container.HostConfig{}},
		"container_create_full": createBody{
			Config: &container.Config{Image: "busybox", Env: []string{"A=1"}, Cmd: []string{"true"},
				Labels: map[string]string{"a": "b"}, Volumes: map[string]struct{}{"/d": {}},
				ExposedPorts: nat.PortSet{"80/tcp": {}}},
			HostConfig:       full,
			NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"none": {}}},
		},
		"exec_create_zero":   types.ExecConfig{Cmd: []string{"true"}},
		"volume_create_zero": volumetypes.VolumeCreateBody{},
	}
	out, err := json.MarshalIndent(bodies, "", "  ")
	if err != nil {
		fail("dump", err)
	}
	fmt.Println(string(out))
}
