"""`argosy admin-token create|list|revoke`: tokens for the admin API (admin or viewer role)."""

from __future__ import annotations

import argparse

from argosy.api.v1 import fleet_pb2
from cli import output
from cli.client import Hub
from cli.parsing import Subparsers, output_flag, runs


def add_parser(subparsers: Subparsers) -> None:
    admin = runs(subparsers.add_parser("admin-token", help="admin API tokens"), run)
    actions = admin.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create an admin API token")
    create.add_argument("--role", choices=["admin", "viewer"], default="admin")
    output_flag(create, ("text", "json"))
    output_flag(actions.add_parser("list", help="list admin tokens"))
    actions.add_parser("revoke", help="revoke an admin token").add_argument("id")


async def run(args: argparse.Namespace, hub: Hub) -> None:
    async with hub.stub() as stub:
        if args.action == "list":
            tokens = (
                await stub.ListAdminTokens(fleet_pb2.ListAdminTokensRequest(), timeout=10)
            ).tokens
            data = [
                {"id": t.id, "role": t.role, "created": t.created_unix, "revoked": t.revoked}
                for t in tokens
            ]
            output.show(
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
        output.emit({"token": resp.token, "id": resp.id}, "json")
    else:
        print(resp.token)
