"""A real MCP client (the official Python SDK, `pip install mcp`) against
`spec-kitty mcp`. Run by tests/it/mcp.rs (python_sdk_client_lists_calls_and_subscribes):

    python tests/mcp_client.py <spec-kitty binary> <project root> <mission slug>

Session 1 negotiates 2025-11-25 (initialize): lists tools, calls each read tool,
reads resources, subscribes to the mission state, runs `move-task` in another
process and waits for notifications/resources/updated.
Session 2 negotiates 2026-07-28 (discover, no initialize): opens
subscriptions/listen on the mission state, moves again, waits for the event.
Each step prints "ok <step>"; any failure raises (non-zero exit).
"""

import json
import os
import subprocess
import sys

import anyio
import mcp_types as types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.subscriptions import ResourceUpdated, listen

BIN, ROOT, SLUG = sys.argv[1], sys.argv[2], sys.argv[3]
STATE = f"spec-kitty://mission/{SLUG}/state"
HANG = 60  # seconds: turns a hang into a failure; nothing waits on time


def move(wp: str, to: str) -> None:
    subprocess.run(
        [BIN, "agent", "tasks", "move-task", wp, "--to", to, "--agent", "claude", "--mission", SLUG],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def text_json(result: types.CallToolResult) -> dict:
    return json.loads(result.content[0].text)


async def legacy_session(params: StdioServerParameters) -> None:
    updated = anyio.Event()

    async def on_message(message) -> None:
        if isinstance(message, types.ResourceUpdatedNotification) and message.params.uri == STATE:
            updated.set()

    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write, message_handler=on_message) as session:
            init = await session.initialize()
            assert init.protocol_version == "2025-11-25", init.protocol_version
            assert init.server_info.name == "spec-kitty"
            print("ok initialized", init.protocol_version)

            tools = await session.list_tools()
            names = {t.name for t in tools.tools}
            assert {"next_step", "board"} <= names, names
            for t in tools.tools:
                assert t.annotations is not None, t.name
            print("ok listed", sorted(names))

            board = await session.call_tool("board", {"mission": SLUG})
            assert not board.is_error, board
            assert text_json(board)["total_wps"] == 3
            step = await session.call_tool("next_step", {"agent": "claude", "mission": SLUG})
            assert not step.is_error, step
            assert text_json(step)["wp_id"] == "WP01"
            missing = await session.call_tool("board", {"mission": "999-nope"})
            assert missing.is_error and text_json(missing)["error_code"] == "MISSION_NOT_FOUND"
            print("ok called board, next_step, and a refused call")

            res = await session.list_resources()
            uris = {str(r.uri) for r in res.resources}
            assert STATE in uris, uris
            state = await session.read_resource(STATE)
            assert json.loads(state.contents[0].text)["work_packages"]["WP01"]["lane"] == "planned"
            print("ok read", STATE)

            await session.subscribe_resource(STATE)
            move("WP01", "claimed")
            with anyio.fail_after(HANG):
                await updated.wait()
            state = await session.read_resource(STATE)
            assert json.loads(state.contents[0].text)["work_packages"]["WP01"]["lane"] == "claimed"
            print("ok updated (resources/subscribe, 2025-11-25)")


async def modern_session(params: StdioServerParameters) -> None:
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.discover()
            assert session.protocol_version == "2026-07-28", session.protocol_version
            print("ok initialized 2026-07-28 by discover", session.server_info.name)
            tools = await session.list_tools()
            print("ok listed", len(tools.tools), "tools on 2026-07-28")
            async with listen(session, resource_subscriptions=[STATE]) as sub:
                move("WP01", "in_progress")
                with anyio.fail_after(HANG):
                    async for event in sub:
                        if isinstance(event, ResourceUpdated) and event.uri == STATE:
                            break
            print("ok updated (subscriptions/listen, 2026-07-28)")


async def main() -> None:
    params = StdioServerParameters(command=BIN, args=["mcp"], cwd=ROOT, env=dict(os.environ))
    await legacy_session(params)
    await modern_session(params)


anyio.run(main)
