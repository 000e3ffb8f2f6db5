"""`argosy version`: this client's version, the image its install YAML names, and, when the hub
answers, the hub's version."""

from __future__ import annotations

import argparse

import grpc

import argosy
from argosy.api.v1 import fleet_pb2
from cli import output
from cli.client import Hub, UserError
from cli.manifests import DEFAULT_IMAGE
from cli.parsing import Subparsers, output_flag, runs

# Short: `argosy version` must answer quickly when no hub is there.
TIMEOUT = 5.0


def add_parser(subparsers: Subparsers) -> None:
    version = runs(
        subparsers.add_parser(
            "version",
            help="show the client's and the hub's versions, and the image installs use",
            description="Print this client's version, and the hub's when it can be reached "
            "(the hub from --hub, $ARGOSY_HUB or the current context). An unreachable hub is "
            "shown as such and is not an error.",
        ),
        run,
    )
    output_flag(version)


async def run(args: argparse.Namespace, hub: Hub) -> None:
    client = argosy.__version__
    hub_version = ""
    problem = ""
    try:
        async with hub.stub() as stub:
            reply = await stub.GetVersion(fleet_pb2.GetVersionRequest(), timeout=TIMEOUT)
            hub_version = reply.version
    except (UserError, grpc.aio.AioRpcError) as exc:
        problem = str(exc) if isinstance(exc, UserError) else (exc.details() or exc.code().name)
    if args.output == "text":
        print(f"client: {client}")
        print(f"image:  {DEFAULT_IMAGE}")
        print(f"hub:    {hub_version or f'unknown ({problem})'} ({hub.address})")
        return
    about_hub = {"address": hub.address, "version": hub_version}
    if problem:
        about_hub["error"] = problem
    output.emit({"client": client, "image": DEFAULT_IMAGE, "hub": about_hub}, args.output)
