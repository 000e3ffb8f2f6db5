"""`argosy`: the one command. Subcommands talk to a hub through the public gRPC API.

Exit codes: 0 ok, 1 a user error (with a message on stderr), 2 usage.
`argosy hub` and `argosy spoke` run the hub and the spoke in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import grpc
import yaml

from argosy import config
from argosy.api.v1 import fleet_pb2, resources_pb2
from argosy.bundle import (
    Bundle,
    BundleSource,
    Cluster,
    load_bundle,
    read_bundle_dirs,
    render,
    target_for,
)
from argosy.convert import selector_from_pb, selector_to_pb
from argosy.errors import ArgosyError, InvalidInput, Problems
from argosy.names import parse_labels
from argosy.selectors import LabelSelector, parse_selector
from cli import install, output
from cli.client import DEFAULT_HUB, Target, UserError, config_path, explain, fleet_stub, resolve
from cli.watch import watch_status

EPILOG = """\
commands:
  argosy hub --data-dir DIR --listen 127.0.0.1:PORT        run a hub
  argosy spoke --hub HOST:PORT --name NAME --labels k=v,k2=v2 --token TOKEN
               [--data-dir DIR] [--simulate]                run a spoke
  argosy token create [--ttl SECONDS] [-o json]             a registration token (stdout)
  argosy apply DIR... [--name NAME] [-l k=v]                create or update bundles
  argosy status [BUNDLE | --cluster NAME] [-o json|yaml] [--watch]
                                                            groups, clusters and bundles
  argosy pause|unpause BUNDLE                               hold / release new revisions
  argosy rollout resume BUNDLE                              resume a halted rollout
  argosy render DIR [-l k=v]... [--cluster-name N]          what a cluster would receive
  argosy target DIR                                         which clusters each bundle reaches
  argosy bundle list|get NAME|delete NAME
  argosy cluster list|delete NAME
  argosy group create NAME --selector env=prod | list | delete NAME
  argosy cluster revoke NAME                                cut a cluster off (certificate refused)
  argosy admin-token create [--role admin|viewer] [-o json] an admin API token; list, revoke ID
  argosy login --token T [--ca FILE] [--context NAME]       save a context; context use|list
  argosy install agent-token --name N [--labels k=v] [--token T] [--agent-hub ADDR]
                                                            YAML that registers this cluster
  argosy install hub [--image IMG] [--namespace NS]         YAML for a hub: PVC, Deployment, Service
  argosy demo [--clusters N] [--keep]                       hub + simulated clusters + examples

Contexts (--config FILE, $ARGOSY_CONFIG, ~/.config/argosy/config.yaml) hold the hub address, its
CA and a token; a hub writes one for its admin to DATA_DIR/admin.yaml on first start.

--hub defaults to $ARGOSY_HUB, else 127.0.0.1:7443.
exit codes: 0 ok, 1 user error, 2 usage.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="argosy",
        description="Ship bundles of Kubernetes manifests to many clusters from one hub.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--hub", help=f"HOST:PORT of the hub (default: $ARGOSY_HUB, the context, {DEFAULT_HUB})"
    )
    p.add_argument(
        "--config",
        type=Path,
        help="contexts file (default: $ARGOSY_CONFIG or ~/.config/argosy/config.yaml)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sub.add_parser("hub", help="run a hub", add_help=False)
    sub.add_parser("spoke", help="run a spoke", add_help=False)

    token = sub.add_parser("token", help="registration tokens").add_subparsers(
        dest="action", required=True
    )
    create = token.add_parser("create", help="create a registration token")
    create.add_argument("--ttl", type=int, default=0, help="seconds until it expires (0: never)")
    create.add_argument("--max-uses", type=int, default=0, help="registrations it allows (0: any)")
    create.add_argument("-o", "--output", choices=["text", "json"], default="text")
    token.add_parser("list", help="list tokens").add_argument(
        "-o", "--output", choices=["text", "json", "yaml"], default="text"
    )
    token.add_parser("revoke", help="revoke a token").add_argument("id")

    apply = sub.add_parser("apply", help="create or update bundles from directories")
    apply.add_argument("dirs", nargs="+", metavar="DIR")
    apply.add_argument("--name", help="bundle name (a prefix when DIR holds several bundles)")
    apply.add_argument("-l", "--label", action="append", default=[], help="bundle label k=v")

    status = sub.add_parser("status", help="show cluster groups, clusters and bundles")
    status.add_argument("bundle", nargs="?", help="show one bundle in detail, per cluster")
    status.add_argument("--cluster", help="show one cluster in detail, per bundle")
    status.add_argument("-o", "--output", choices=["text", "json", "yaml"], default="text")
    status.add_argument("--watch", "-w", action="store_true", help="redraw on every change")

    for verb, text in (
        ("pause", "hold new revisions of a bundle"),
        ("unpause", "release held revisions of a bundle"),
    ):
        sub.add_parser(verb, help=text).add_argument("name", metavar="BUNDLE")
    rollout = sub.add_parser("rollout", help="rollouts").add_subparsers(
        dest="action", required=True
    )
    rollout.add_parser("resume", help="resume a halted rollout").add_argument(
        "name", metavar="BUNDLE"
    )

    rend = sub.add_parser("render", help="print what a cluster with these labels would receive")
    rend.add_argument("dir", metavar="DIR")
    rend.add_argument("-l", "--label", action="append", default=[], help="cluster label k=v")
    rend.add_argument("--cluster-name", default="local", help="cluster name for templates")
    rend.add_argument(
        "--group",
        action="append",
        default=[],
        help="cluster group NAME=SELECTOR the cluster belongs to",
    )

    tgt = sub.add_parser("target", help="which registered clusters each bundle in DIR reaches")
    tgt.add_argument("dir", metavar="DIR")
    tgt.add_argument("-o", "--output", choices=["text", "json", "yaml"], default="text")

    bundle = sub.add_parser("bundle", help="bundles").add_subparsers(dest="action", required=True)
    bundle.add_parser("list", help="list bundles").add_argument(
        "-o", "--output", choices=["text", "json", "yaml"], default="text"
    )
    get = bundle.add_parser("get", help="show a bundle and its files")
    get.add_argument("name")
    get.add_argument("-o", "--output", choices=["json", "yaml"], default="yaml")
    bundle.add_parser("delete", help="delete a bundle").add_argument("name")

    cluster = sub.add_parser("cluster", help="clusters").add_subparsers(
        dest="action", required=True
    )
    cluster.add_parser("list", help="list clusters").add_argument(
        "-o", "--output", choices=["text", "json", "yaml"], default="text"
    )
    cluster.add_parser("delete", help="forget a cluster").add_argument("name")
    cluster.add_parser(
        "revoke",
        help="refuse a cluster's certificate and cut its stream now",
        description="Refuse the cluster's certificate and cut its stream now. Revocation "
        "outlives `argosy cluster delete`: the hub keeps the name (a tombstone) and refuses it "
        "to every registration token that existed when it was revoked, so the spoke cannot "
        "come back with the token it holds. To let the cluster back: `argosy cluster delete "
        "NAME`, then register it with a token created after the revocation (`argosy token "
        "create`); other tokens stay valid for other clusters.",
    ).add_argument("name")

    admin = sub.add_parser("admin-token", help="admin API tokens").add_subparsers(
        dest="action", required=True
    )
    acreate = admin.add_parser("create", help="create an admin API token")
    acreate.add_argument("--role", choices=["admin", "viewer"], default="admin")
    acreate.add_argument("-o", "--output", choices=["text", "json"], default="text")
    admin.add_parser("list", help="list admin tokens").add_argument(
        "-o", "--output", choices=["text", "json", "yaml"], default="text"
    )
    admin.add_parser("revoke", help="revoke an admin token").add_argument("id")

    login = sub.add_parser("login", help="save a context: hub address, CA and token")
    login.add_argument("--token", required=True, help="an admin token")
    login.add_argument("--ca", type=Path, help="PEM of the hub CA (omit for an --insecure hub)")
    login.add_argument("--context", default="default", help="context name")

    context = sub.add_parser("context", help="contexts").add_subparsers(
        dest="action", required=True
    )
    context.add_parser("use", help="make a context current").add_argument("name")
    context.add_parser("list", help="list contexts")

    group = sub.add_parser("group", help="cluster groups").add_subparsers(
        dest="action", required=True
    )
    gcreate = group.add_parser("create", help="create or update a group")
    gcreate.add_argument("name")
    gcreate.add_argument("--selector", required=True, help="label selector, e.g. env=prod")
    group.add_parser("list", help="list groups").add_argument(
        "-o", "--output", choices=["text", "json", "yaml"], default="text"
    )
    group.add_parser("delete", help="delete a group").add_argument("name")

    install.add_parser(sub)

    demo = sub.add_parser("demo", help="run a hub and simulated clusters, apply examples/")
    demo.add_argument("--clusters", type=int, default=5, help="number of simulated clusters")
    demo.add_argument("--keep", action="store_true", help="keep running until Ctrl-C")
    demo.add_argument("--examples", type=Path, default=None, help="bundle dirs to apply")
    demo.add_argument("--data-dir", type=Path, default=None, help="default: a temporary dir")
    demo.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for Ready")
    return p


def _labels(pairs: Sequence[str], what: str) -> dict[str, str]:
    return parse_labels(",".join(pairs), what=what)


def _print(data: Any, fmt: str) -> None:
    print(output.dump(data, fmt))


def _show(
    data: list[dict[str, Any]],
    fmt: str,
    headers: list[str],
    row: Callable[[dict[str, Any]], list[Any]],
) -> None:
    """A listing: a table for people, the same data as JSON or YAML for programs."""
    if fmt == "text":
        print(output.table(headers, [row(d) for d in data]))
    else:
        _print(data, fmt)


async def cmd_token(args: argparse.Namespace, hub: Target) -> None:
    async with fleet_stub(hub) as stub:
        if args.action == "create":
            resp = await stub.CreateToken(
                fleet_pb2.CreateTokenRequest(ttl_seconds=args.ttl, max_uses=args.max_uses),
                timeout=10,
            )
            if args.output == "json":
                _print(
                    {"token": resp.token, "caPem": resp.ca_pem.decode(), "id": resp.info.id},
                    "json",
                )
            else:
                print(resp.token)
        elif args.action == "list":
            tokens = (await stub.ListTokens(fleet_pb2.ListTokensRequest(), timeout=10)).tokens
            data: list[dict[str, Any]] = [
                {
                    "id": t.id,
                    "created": t.created_unix,
                    "expires": t.expires_unix,
                    "revoked": t.revoked,
                    "uses": t.uses,
                }
                for t in tokens
            ]
            _show(
                data,
                args.output,
                ["ID", "USES", "REVOKED", "EXPIRES"],
                lambda d: [d["id"], d["uses"], d["revoked"], d["expires"] or "never"],
            )
        else:
            await stub.RevokeToken(fleet_pb2.RevokeTokenRequest(id=args.id), timeout=10)
            print(f"token {args.id} revoked")


def bundle_specs(
    dirs: Sequence[str], *, name: str | None, labels: dict[str, str]
) -> list[fleet_pb2.BundleSpec]:
    """Read and check bundle dirs locally: errors name the file and line before anything is sent.

    Every bundle is checked, and every problem found is reported together.
    """
    specs = []
    problems = Problems()
    for source in read_bundle_dirs(dirs, name=name):
        with problems.check():
            load_local(source, labels=labels)
            specs.append(
                fleet_pb2.BundleSpec(
                    name=source.name,
                    labels=labels,
                    files=[
                        resources_pb2.BundleFile(path=p, content=c)
                        for p, c in sorted(source.files.items())
                    ],
                )
            )
    problems.raise_any()
    return specs


def load_local(source: BundleSource, *, labels: dict[str, str] | None = None) -> Bundle:
    """load_bundle, with each problem naming its file by the path the user gave."""
    try:
        return load_bundle(source, labels=labels)
    except InvalidInput as exc:
        raise InvalidInput.of(_located(p, source) for p in exc.problems) from None


def _located(problem: str, source: BundleSource) -> str:
    """A problem found in a bundle, with paths as the user wrote them: 'big/cm.yaml:1: ...'.

    load_bundle names files relative to the bundle; the user knows the directory they passed.
    """
    if not source.origin:
        return problem
    if problem.split(":", 1)[0] in source.files:
        return f"{source.origin.rstrip('/')}/{problem}"
    return f"{source.origin}: {problem}"


async def cmd_apply(args: argparse.Namespace, hub: Target) -> None:
    specs = bundle_specs(args.dirs, name=args.name, labels=_labels(args.label, "--label"))
    async with fleet_stub(hub) as stub:
        resp = await stub.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=specs), timeout=120)
    for b in resp.bundles:
        verb = "configured" if b.changed else "unchanged"
        count = f"{b.resource_count} resources" if b.resource_count else "rendered per cluster"
        print(f"bundle/{b.name} {verb} ({count}, revision {b.revision[:12]})")
        for warning in b.warnings:
            print(f"argosy: warning: bundle/{b.name}: {warning}", file=sys.stderr)


async def cmd_status(args: argparse.Namespace, hub: Target) -> None:
    if args.watch:
        await watch_status(
            hub, fmt=args.output, bundle=args.bundle or "", cluster=args.cluster or ""
        )
        return
    request = fleet_pb2.GetStatusRequest(
        detail_bundles=[args.bundle] if args.bundle else [],
        detail_clusters=[args.cluster] if args.cluster else [],
    )
    async with fleet_stub(hub) as stub:
        status = await stub.GetStatus(request, timeout=10)
    if args.bundle or args.cluster:
        bundles = [b for b in status.bundles if b.name == args.bundle]
        clusters = [c for c in status.clusters if c.name == args.cluster]
        if args.output != "text":
            doc = output.status_dict(
                fleet_pb2.GetStatusResponse(bundles=bundles, clusters=clusters)
            )
            _print({k: v for k, v in doc.items() if v}, args.output)
            return
        print(
            "\n\n".join(
                [*map(output.bundle_detail, bundles), *map(output.cluster_detail, clusters)]
            )
        )
        return
    if args.output == "text":
        print(output.status_tables(status))
    else:
        _print(output.status_dict(status), args.output)


async def cmd_pause(args: argparse.Namespace, hub: Target, *, paused: bool) -> None:
    async with fleet_stub(hub) as stub:
        await stub.SetBundlePaused(
            fleet_pb2.SetBundlePausedRequest(name=args.name, paused=paused), timeout=10
        )
    print(f"bundle/{args.name} {'paused' if paused else 'unpaused'}")


async def cmd_rollout(args: argparse.Namespace, hub: Target) -> None:
    async with fleet_stub(hub) as stub:
        await stub.ResumeRollout(fleet_pb2.ResumeRolloutRequest(name=args.name), timeout=10)
    print(f"bundle/{args.name} rollout resumed")


async def cmd_render(args: argparse.Namespace) -> None:
    labels = _labels(args.label, "--label")
    groups: dict[str, LabelSelector] = {"default": LabelSelector()}
    for g in args.group:
        gname, _, sel = g.partition("=")
        groups[gname] = parse_selector(sel)
    cluster = Cluster(name=args.cluster_name, labels=labels)
    docs: list[Any] = []
    for source in read_bundle_dirs([args.dir]):
        bundle = load_local(source)
        target = target_for(bundle, cluster, groups)
        if target is None:
            print(f"# bundle {bundle.name}: not deployed to this cluster", file=sys.stderr)
            continue
        resources = await render(bundle, target)
        docs.extend(m.obj for m in resources.items.values())
    sys.stdout.write(yaml.safe_dump_all(docs, sort_keys=True) if docs else "")


async def cmd_target(args: argparse.Namespace, hub: Target) -> None:
    async with fleet_stub(hub) as stub:
        clusters = (await stub.ListClusters(fleet_pb2.ListClustersRequest(), timeout=10)).clusters
        groups_pb = (await stub.ListGroups(fleet_pb2.ListGroupsRequest(), timeout=10)).groups
    groups = {g.name: selector_from_pb(g.selector) for g in groups_pb}
    rows = []
    for source in read_bundle_dirs([args.dir]):
        bundle = load_local(source)
        for c in clusters:
            target = target_for(bundle, Cluster(name=c.name, labels=dict(c.labels)), groups)
            if target is not None:
                rows.append(
                    {
                        "bundle": bundle.name,
                        "cluster": c.name,
                        "customizations": list(target.customizations),
                    }
                )
    _show(
        rows,
        args.output,
        ["BUNDLE", "CLUSTER", "CUSTOMIZATION"],
        lambda r: [r["bundle"], r["cluster"], ",".join(r["customizations"]) or "-"],
    )


async def cmd_bundle(args: argparse.Namespace, hub: Target) -> None:
    async with fleet_stub(hub) as stub:
        if args.action == "list":
            bundles = (await stub.ListBundles(fleet_pb2.ListBundlesRequest(), timeout=10)).bundles
            data: list[dict[str, Any]] = [
                {
                    "name": b.spec.name,
                    "revision": b.revision,
                    "resources": b.resource_count,
                    "labels": dict(b.spec.labels),
                }
                for b in bundles
            ]
            _show(
                data,
                args.output,
                ["NAME", "RESOURCES", "REVISION"],
                lambda d: [d["name"], d["resources"], d["revision"][:12]],
            )
        elif args.action == "get":
            b = (
                await stub.GetBundle(fleet_pb2.GetBundleRequest(name=args.name), timeout=10)
            ).bundle
            _print(
                {
                    "name": b.spec.name,
                    "labels": dict(b.spec.labels),
                    "revision": b.revision,
                    "resources": b.resource_count,
                    "files": {f.path: f.content.decode("utf-8", "replace") for f in b.spec.files},
                },
                args.output,
            )
        else:
            await stub.DeleteBundle(fleet_pb2.DeleteBundleRequest(name=args.name), timeout=30)
            print(f"bundle/{args.name} deleted")


async def cmd_cluster(args: argparse.Namespace, hub: Target) -> None:
    async with fleet_stub(hub) as stub:
        if args.action == "list":
            clusters = (
                await stub.ListClusters(fleet_pb2.ListClustersRequest(), timeout=10)
            ).clusters
            data: list[dict[str, Any]] = [
                {"name": c.name, "id": c.id, "labels": dict(c.labels), "connected": c.connected}
                for c in clusters
            ]
            _show(
                data,
                args.output,
                ["NAME", "ID", "LABELS", "CONNECTED"],
                lambda d: [d["name"], d["id"], output.labels_text(d["labels"]), d["connected"]],
            )
        elif args.action == "revoke":
            await stub.RevokeCluster(fleet_pb2.RevokeClusterRequest(name=args.name), timeout=30)
            print(f"cluster/{args.name} revoked")
        else:
            await stub.DeleteCluster(fleet_pb2.DeleteClusterRequest(name=args.name), timeout=30)
            print(f"cluster/{args.name} deleted")


async def cmd_admin_token(args: argparse.Namespace, hub: Target) -> None:
    async with fleet_stub(hub) as stub:
        if args.action == "list":
            tokens = (
                await stub.ListAdminTokens(fleet_pb2.ListAdminTokensRequest(), timeout=10)
            ).tokens
            data = [
                {"id": t.id, "role": t.role, "created": t.created_unix, "revoked": t.revoked}
                for t in tokens
            ]
            _show(
                data,
                args.output,
                ["ID", "ROLE", "REVOKED"],
                lambda d: [d["id"], d["role"], d["revoked"]],
            )
            return
        if args.action == "revoke":
            await stub.RevokeAdminToken(fleet_pb2.RevokeAdminTokenRequest(id=args.id), timeout=10)
            print(f"admin token {args.id} revoked")
            return
        resp = await stub.CreateAdminToken(
            fleet_pb2.CreateAdminTokenRequest(role=args.role), timeout=10
        )
    if args.output == "json":
        _print({"token": resp.token, "id": resp.id}, "json")
    else:
        print(resp.token)


def cmd_login(args: argparse.Namespace) -> None:
    path = config_path(args.config)
    hub = args.hub or resolve(None, args.config).address
    ca = args.ca.read_text() if args.ca else ""
    cfg = config.load(path).with_context(
        config.Context(name=args.context, hub=hub, ca=ca, token=args.token)
    )
    config.save(cfg, path)
    print(f"context {args.context} ({hub}) saved in {path} and made current")


def cmd_context(args: argparse.Namespace) -> None:
    path = config_path(args.config)
    cfg = config.load(path)
    if args.action == "use":
        if cfg.context(args.name) is None:
            raise UserError(f"no context {args.name!r} in {path}")
        config.save(replace(cfg, current=args.name), path)
        print(f"using context {args.name}")
        return
    print(
        output.table(
            ["CURRENT", "NAME", "HUB", "TLS"],
            [
                ["*" if c.name == cfg.current else "", c.name, c.hub, "yes" if c.ca else "no"]
                for c in cfg.contexts
            ],
        )
    )


async def cmd_group(args: argparse.Namespace, hub: Target) -> None:
    async with fleet_stub(hub) as stub:
        if args.action == "create":
            sel = parse_selector(args.selector)
            await stub.CreateGroup(
                fleet_pb2.CreateGroupRequest(
                    group=fleet_pb2.ClusterGroup(
                        name=args.name,
                        selector=selector_to_pb(sel),
                    )
                ),
                timeout=30,
            )
            print(f"group/{args.name} configured")
        elif args.action == "list":
            groups = (await stub.ListGroups(fleet_pb2.ListGroupsRequest(), timeout=10)).groups
            data: list[dict[str, Any]] = [
                {"name": g.name, "selector": {"matchLabels": dict(g.selector.match_labels)}}
                for g in groups
            ]
            _show(
                data,
                args.output,
                ["NAME", "SELECTOR"],
                lambda d: [
                    d["name"],
                    output.labels_text(d["selector"]["matchLabels"])
                    if d["selector"]["matchLabels"]
                    else "(all)",
                ],
            )
        else:
            await stub.DeleteGroup(fleet_pb2.DeleteGroupRequest(name=args.name), timeout=30)
            print(f"group/{args.name} deleted")


async def dispatch(args: argparse.Namespace) -> None:
    hub = resolve(args.hub, args.config)
    command = args.command
    if command == "token":
        await cmd_token(args, hub)
    elif command == "apply":
        await cmd_apply(args, hub)
    elif command == "status":
        await cmd_status(args, hub)
    elif command in ("pause", "unpause"):
        await cmd_pause(args, hub, paused=command == "pause")
    elif command == "rollout":
        await cmd_rollout(args, hub)
    elif command == "render":
        await cmd_render(args)
    elif command == "target":
        await cmd_target(args, hub)
    elif command == "bundle":
        await cmd_bundle(args, hub)
    elif command == "cluster":
        await cmd_cluster(args, hub)
    elif command == "group":
        await cmd_group(args, hub)
    elif command == "install":
        await install.run(args)
    elif command == "admin-token":
        await cmd_admin_token(args, hub)
    elif command == "login":
        cmd_login(args)
    elif command == "context":
        cmd_context(args)
    elif command == "demo":
        from cli.demo import run_demo  # noqa: PLC0415 (cli.demo imports this module)

        await run_demo(args)


def quiet_broken_pipe() -> NoReturn:
    """`argosy status | head`: the reader left, so stop quietly, as Unix tools do on SIGPIPE.

    stdout is pointed at /dev/null first, or Python's own flush at exit would fail again and
    print "Exception ignored ... BrokenPipeError".
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    raise SystemExit(128 + signal.SIGPIPE)


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `argosy [--hub X] hub|spoke ...`: the rest of the line belongs to the hub or the spoke.
    rest = argv[2:] if argv[:1] == ["--hub"] else argv
    if rest[:1] == ["hub"]:
        from hub.app import main as hub_main  # noqa: PLC0415 (only `argosy hub` pays for it)

        hub_main(rest[1:])
        return
    if rest[:1] == ["spoke"]:
        from spoke.app import main as spoke_main  # noqa: PLC0415 (likewise)

        extra = ["--hub", argv[1]] if rest is not argv and "--hub" not in rest else []
        spoke_main([*extra, *rest[1:]])
        return
    args = build_parser().parse_args(argv)
    try:
        asyncio.run(dispatch(args))
        # Inside the try: a pipe closed early fails here, not in Python's flush at exit.
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_broken_pipe()
    except InvalidInput as exc:
        for problem in exc.problems:
            print(f"argosy: error: {problem}", file=sys.stderr)
        raise SystemExit(1) from None
    except (UserError, ArgosyError) as exc:
        print(f"argosy: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except grpc.aio.AioRpcError as exc:
        print(f"argosy: error: {explain(exc, args.hub or 'the hub')}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
