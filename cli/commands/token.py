"""`argosy token create|list|revoke`: registration tokens, which let a new spoke register."""

from __future__ import annotations

import argparse
from typing import Any

from argosy.api.v1 import fleet_pb2
from cli import output
from cli.client import Hub
from cli.parsing import UINT32_MAX, Subparsers, int_in, output_flag, runs


def add_parser(subparsers: Subparsers) -> None:
    token = runs(subparsers.add_parser("token", help="registration tokens"), run)
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a registration token")
    create.add_argument(
        "--ttl", type=int_in(0, UINT32_MAX), default=0, help="seconds until it expires (0: never)"
    )
    create.add_argument(
        "--max-uses", type=int_in(0, UINT32_MAX), default=0, help="registrations it allows (0: any)"
    )
    output_flag(create, ("text", "json"))
    output_flag(actions.add_parser("list", help="list tokens"))
    actions.add_parser("revoke", help="revoke a token").add_argument("id")


async def run(args: argparse.Namespace, hub: Hub) -> None:
    async with hub.stub() as stub:
        if args.action == "create":
            resp = await stub.CreateToken(
                fleet_pb2.CreateTokenRequest(ttl_seconds=args.ttl, max_uses=args.max_uses),
                timeout=10,
            )
            if args.output == "json":
                output.emit(
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
                    "expiresAt": output.iso_utc(t.expires_unix) or None,
                    "revoked": t.revoked,
                    "uses": t.uses,
                }
                for t in tokens
            ]
            output.show(
                data,
                args.output,
                ["ID", "USES", "REVOKED", "EXPIRES"],
                lambda d: [d["id"], d["uses"], d["revoked"], d["expiresAt"] or "never"],
            )
        else:
            await stub.RevokeToken(fleet_pb2.RevokeTokenRequest(id=args.id), timeout=10)
            print(f"token {args.id} revoked")
