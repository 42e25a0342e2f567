#!/usr/bin/env python3
"""Writes conformance/scenarios/40-49-build-*.scn, the build corpus (issue 11): 33 Dockerfiles
(27 that build, 6 that Docker refuses) in ten scenarios. Each is built with the classic builder;
its config fields, history and every layer's entries are printed. Usage:
    python3 conformance/tools/build-corpus.py conformance/scenarios
then record them from Docker: conformance/differential.sh --record build"""
import os, sys, shlex

OUT = sys.argv[1]

SHOW = ("printf '%s\\n' '#!/bin/sh' 'img=$1' "
        "'for f in Cmd Entrypoint Env WorkingDir User Volumes ExposedPorts Labels Healthcheck Shell OnBuild; do printf \"%s=\" $f; docker image inspect --format \"{{json .Config.$f}}\" \"$img\"; done' "
        "'docker image inspect --format \"StopSignal={{if .Config.StopSignal}}{{.Config.StopSignal}}{{end}}\" \"$img\"' "
        "'docker history --no-trunc --format \"{{.CreatedBy}}\" \"$img\"' "
        "'docker save -o \"$SCRATCH/$img.tar\" \"$img\"' "
        "'n=$(docker image inspect --format \"{{len .RootFS.Layers}}\" \"$img\")' "
        "'i=1' "
        "'while [ \"$i\" -lt \"$n\" ]; do echo \"layer $i\"; \"$HARNESS\" layer-ls \"$SCRATCH/$img.tar\" \"$i\"; i=$((i+1)); done' "
        "> show && chmod +x show")

def q(s):
    return "'" + s.replace("'", "'\\''") + "'"

def files_cmd(d, files):
    cmds = [f"mkdir -p {d}"]
    for path, content in files.items():
        if isinstance(content, tuple):  # (kind, arg)
            kind, arg = content
            if kind == "dir":
                cmds.append(f"mkdir -p {d}/{path}")
            elif kind == "link":
                cmds.append(f"ln -s {q(arg)} {d}/{path}")
            elif kind == "mode":
                cmds.append(f"chmod {arg} {d}/{path}")
            elif kind == "tar":
                cmds.append(f"tar -C {d}/{arg[0]} -c{arg[1]}f {d}/{path} .")
            continue
        parent = os.path.dirname(path)
        if parent:
            cmds.append(f"mkdir -p {d}/{parent}")
        lines = content.split("\n")
        if lines and lines[-1] == "":
            lines = lines[:-1]
        cmds.append("printf '%s\\n' " + " ".join(q(l) for l in lines) + f" > {d}/{path}")
    return " && ".join(cmds)

def scenario(name, title, builds):
    out = [f"title: {title}", "", "[setup]", "", f"$ {SHOW}", ""]
    for b in builds:
        out.append(f"$ {files_cmd(b['name'], b['files'])}")
        out.append("")
    out.append("[test]")
    out.append("")
    for b in builds:
        if b.get("comment"):
            out.append(f"# {b['comment']}")
        args = " ".join(b.get("args", []))
        img = f"spec-{b['name']}"
        if b.get("error"):
            out.append(f"$ DOCKER_BUILDKIT=0 docker build {args} -t {img} {b['name']} >/dev/null 2>err; echo \"exit $?\"; grep -v -e DEPRECATED -e buildx -e BuildKit -e environment-variable -e '^ *$' err")
            out.append("")
            continue
        out.append(f"$ DOCKER_BUILDKIT=0 docker build -q {args} -t {img} {b['name']} 2>/dev/null")
        out.append("")
        out.append(f"$ ./show {img}")
        out.append("")
        for extra in b.get("run", []):
            out.append(f"$ {extra}")
            out.append("")
    out.append("[cleanup]")
    out.append("")
    imgs = " ".join(f"spec-{b['name']}" for b in builds)
    out.append(f"$ docker rmi -f {imgs} 2>/dev/null; true")
    with open(os.path.join(OUT, name + ".scn"), "w") as f:
        f.write("\n".join(out) + "\n")

D = lambda *lines: "\n".join(lines) + "\n"

scenario("40-build-metadata", "build: ENV, LABEL, CMD, ENTRYPOINT, EXPOSE, VOLUME, USER, STOPSIGNAL in configs and history", [
    dict(name="b01", comment="ENV's two forms, quotes and escapes, substitution in LABEL", files={"Dockerfile": D(
        "FROM busybox",
        "ENV A=1 B=\"two words\" C=three\\ words",
        "ENV OLD legacy form value",
        "ENV D=${A}-$B E=${NOPE:-dflt} F=${A:+alt}",
        "LABEL x=$A \"y z\"=\"quoted value\" multi=1",
        "LABEL single line")}),
    dict(name="b02", comment="ENTRYPOINT resets CMD unless CMD comes after; shell forms use the shell; an empty ENTRYPOINT clears", files={"Dockerfile": D(
        "FROM busybox",
        "CMD [\"first\"]",
        "ENTRYPOINT echo entry",
        "CMD [\"arg1\", \"arg2\"]",
        "ENTRYPOINT []",
        "CMD echo shell form")}),
    dict(name="b03", comment="EXPOSE ranges and protocols, VOLUME forms, USER and STOPSIGNAL", files={"Dockerfile": D(
        "FROM busybox",
        "EXPOSE 80 443/tcp 53/udp 8000-8002",
        "VOLUME /data",
        "VOLUME [\"/logs\", \"/cache\"]",
        "VOLUME /a /b",
        "USER 1000:1000",
        "STOPSIGNAL 9",
        "STOPSIGNAL SIGQUIT")}),
])

scenario("41-build-args", "build: ARG scoping, meta args in FROM, --build-arg, ENV over ARG, |N in history", [
    dict(name="b04", comment="a meta ARG feeds FROM and, redeclared, the stage", args=["--build-arg", "WHO=cli"], files={"Dockerfile": D(
        "ARG BASE=busybox",
        "ARG TAG=latest",
        "FROM ${BASE}:${TAG}",
        "ARG TAG",
        "ARG WHO=default",
        "RUN echo \"$TAG $WHO\" > /args",
        "ENV FROM_ARG=$WHO")}),
    dict(name="b05", comment="ENV wins over ARG; an ARG without value is empty; build args reach RUN", args=["--build-arg", "X=fromcli"], files={"Dockerfile": D(
        "FROM busybox",
        "ARG X",
        "ARG Y",
        "ENV X=fromenv",
        "RUN echo \"x=$X y=$Y\" > /out",
        "ARG Z=zz",
        "RUN echo $Z >> /out")}),
    dict(name="b06", comment="proxy build args reach RUN but not the history; an unused --build-arg is only warned about", args=["--build-arg", "HTTP_PROXY=http://proxy:3128", "--build-arg", "UNUSED=1"], files={"Dockerfile": D(
        "FROM busybox",
        "RUN echo \"proxy=$HTTP_PROXY\" > /proxy",
        "ARG HTTP_PROXY",
        "RUN echo declared > /declared")}),
])

scenario("42-build-run", "build: RUN forms, SHELL, deletions as whiteouts, empty layers", [
    dict(name="b07", comment="exec and shell forms; deleting base files writes whiteouts", files={"Dockerfile": D(
        "FROM busybox",
        "RUN [\"/bin/sh\", \"-c\", \"echo exec > /exec\"]",
        "RUN rm /etc/group && rm -rf /home && mkdir -p /home/new",
        "RUN echo shell > /shell")}),
    dict(name="b08", comment="SHELL changes how later shell forms run and what history shows", files={"Dockerfile": D(
        "FROM busybox",
        "SHELL [\"/bin/sh\", \"-ec\"]",
        "RUN echo $0 > /which",
        "CMD echo hi")}),
    dict(name="b09", comment="a RUN that changes nothing adds an empty layer; metadata changes are layers", files={"Dockerfile": D(
        "FROM busybox",
        "RUN true",
        "RUN chmod 700 /tmp && chown 1:1 /root",
        "RUN mkdir -p /x/y/z && touch /x/y/z/f && rm -rf /x/y")}),
])

scenario("43-build-copy", "build: COPY of files, directories, globs, .dockerignore and --chown", [
    dict(name="b10", comment="a file to a directory, to a path, a directory's contents, relative to WORKDIR", files={
        "Dockerfile": D(
            "FROM busybox",
            "WORKDIR /app",
            "COPY a.txt /dest/",
            "COPY a.txt /renamed.txt",
            "COPY dir /copied",
            "COPY a.txt rel/",
            "COPY dir/sub/b.txt .",
            "COPY exe /usr/local/bin/"),
        "a.txt": "a\n", "dir/sub/b.txt": "b\n", "dir/c.txt": "c\n", "exe": "#!/bin/sh\n", "exe ": ("mode", "755 b10/exe")}),
    dict(name="b11", comment="globs and several sources (multi: hash), the whole context with .dockerignore", files={
        "Dockerfile": D(
            "FROM busybox",
            "COPY *.txt /globbed/",
            "COPY one.txt two.txt /both/",
            "COPY . /ctx/"),
        ".dockerignore": D("*.log", "secret/", "!keep.log"),
        "one.txt": "1\n", "two.txt": "2\n", "x.log": "x\n", "keep.log": "k\n", "secret/s": "s\n"}),
    dict(name="b12", comment="--chown by name (the image's passwd) and number; new parents get the owner", files={
        "Dockerfile": D(
            "FROM busybox",
            "COPY --chown=nobody:nobody f /owned/deep/f",
            "COPY --chown=123 f /num",
            "COPY --chown=1:2 d /dir/",
            "RUN mkdir /exists",
            "COPY --chown=5:5 d /exists/"),
        "f": "f\n", "d/inner": "i\n"}),
])

scenario("44-build-add", "build: ADD extracts local archives (plain and gzip), copies other files", [
    dict(name="b13", comment="a plain tar is unpacked where it lands", files={
        "src/pkg/lib.txt": "lib\n", "src/pkg/bin/tool": "tool\n",
        "Dockerfile": D("FROM busybox", "ADD pkg.tar /opt/"),
        "pkg.tar": ("tar", ("src", ""))}),
    dict(name="b14", comment="a gzip tar into an existing directory; a plain file is copied", files={
        "src/x": "x\n",
        "Dockerfile": D("FROM busybox", "ADD pkg.tgz /etc/", "ADD note.txt /notes/"),
        "pkg.tgz": ("tar", ("src", "z")), "note.txt": "n\n"}),
    dict(name="b15", comment="ADD of a directory and --chown", files={
        "Dockerfile": D("FROM busybox", "ADD --chown=nobody d /added"),
        "d/a": "a\n", "d/b/c": "c\n"}),
])

scenario("45-build-workdir", "build: WORKDIR layers, relative paths, MAINTAINER", [
    dict(name="b16", comment="WORKDIR creates missing directories (a layer) and resolves relative paths", files={"Dockerfile": D(
        "FROM busybox",
        "WORKDIR /a",
        "WORKDIR b",
        "WORKDIR ../c",
        "ENV DIR=/envdir",
        "WORKDIR $DIR/sub",
        "WORKDIR /tmp")}),
    dict(name="b17", comment="USER does not change who owns a WORKDIR; COPY relative to it", files={
        "Dockerfile": D("FROM busybox", "USER nobody", "WORKDIR /home/app", "COPY f .", "RUN id -u > /tmp/uid"),
        "f": "f\n"}),
    dict(name="b18", comment="MAINTAINER sets the author of later steps", files={"Dockerfile": D(
        "FROM busybox",
        "MAINTAINER Jane Doe <jane@example.com>",
        "LABEL a=b",
        "RUN echo x > /x")}),
])

scenario("46-build-multistage", "build: stages by name and index, COPY --from, --target", [
    dict(name="b19", comment="COPY --from a named stage keeps its owners", files={"Dockerfile": D(
        "FROM busybox AS builder",
        "RUN mkdir /out && echo built > /out/artifact && chown -R 1:1 /out",
        "FROM busybox",
        "COPY --from=builder /out /app",
        "COPY --from=builder /out/artifact /single")}),
    dict(name="b20", comment="COPY --from an index; FROM a previous stage inherits its config", files={"Dockerfile": D(
        "FROM busybox AS zero",
        "ENV STAGE=zero",
        "RUN echo 0 > /zero",
        "FROM zero AS next",
        "ENV STAGE=one",
        "COPY --from=0 /zero /copied")}),
    dict(name="b21", comment="--target stops at a stage", args=["--target", "first"], files={"Dockerfile": D(
        "FROM busybox AS first",
        "LABEL stage=first",
        "FROM busybox",
        "LABEL stage=second")}),
])

scenario("47-build-onbuild-health", "build: ONBUILD triggers recorded and run, HEALTHCHECK forms", [
    dict(name="b22", comment="ONBUILD triggers are recorded in the image", files={"Dockerfile": D(
        "FROM busybox",
        "ONBUILD RUN echo triggered > /trig",
        "ONBUILD LABEL from=onbuild")}),
    dict(name="b23", comment="a child of that image runs them first (they are not inherited)", files={"Dockerfile": D(
        "FROM spec-b22",
        "RUN cat /trig")}),
    dict(name="b24", comment="HEALTHCHECK with options, exec form, and NONE", files={"Dockerfile": D(
        "FROM busybox",
        "HEALTHCHECK --interval=30s --timeout=5s --start-period=1m --retries=3 CMD wget -q localhost || exit 1",
        "HEALTHCHECK CMD [\"true\"]",
        "HEALTHCHECK NONE")}),
])

scenario("48-build-errors", "build: Docker's words for bad Dockerfiles and failing steps", [
    dict(name="e01", error=True, comment="an unknown instruction", files={"Dockerfile": D("FROM busybox", "FOO bar")}),
    dict(name="e02", error=True, comment="a missing COPY source", files={"Dockerfile": D("FROM busybox", "COPY nope /x")}),
    dict(name="e03", error=True, comment="a failing RUN: its code and command", files={"Dockerfile": D("FROM busybox", "RUN echo out && exit 3")}),
    dict(name="e04", error=True, comment="ENV without a value", files={"Dockerfile": D("FROM busybox", "ENV ONLYKEY")}),
    dict(name="e05", error=True, comment="several sources need a directory destination", files={"Dockerfile": D("FROM busybox", "COPY a b /notadir"), "a": "a\n", "b": "b\n"}),
    dict(name="e06", error=True, comment="an instruction before FROM", files={"Dockerfile": D("RUN true", "FROM busybox")}),
])

scenario("49-build-misc", "build: continuations and the escape directive, scratch images, symlinks, VOLUME then RUN", [
    dict(name="b25", comment="continued lines with comments in them, and the backtick escape", files={"Dockerfile": D(
        "# escape=`",
        "FROM busybox",
        "RUN echo one `",
        "  # a comment inside",
        "  two > /joined",
        "ENV P=C:\\path\\here")}),
    dict(name="b26", comment="FROM scratch with only COPY", files={"Dockerfile": D(
        "FROM scratch",
        "COPY hello /hello",
        "CMD [\"/hello\"]"), "hello": "not a program\n"}),
    dict(name="b27", comment="symlinks in the context are copied as symlinks; a RUN writing into a VOLUME path loses it", files={
        "Dockerfile": D("FROM busybox", "COPY links/ /links/", "VOLUME /vol", "RUN echo lost > /vol/f && echo kept > /kept"),
        "links/target": "t\n", "links/link": ("link", "target")}),
])
