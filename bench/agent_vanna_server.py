"""vanna 2.0.2's own FastAPI server (``vanna.servers.fastapi``), as its docs assemble it, for ``bench/agent_chat.py``.

Runs in a separate virtualenv that has ``vanna[fastapi,openai]`` (never the project's ``.venv``)::

    /tmp/mv_bench_vanna/bin/python bench/agent_vanna_server.py --port 18502 \\
        --llm-base-url http://127.0.0.1:18501/v1 --api-key sk-bench-fake --database demo.sqlite3

The agent: vanna's bundled ``OpenAILlmService`` pointed at the fake LLM, its ``RunSqlTool`` on its
``SqliteRunner`` over the same demo SQLite file (it writes a CSV per query into the working directory, as it
does), its in-memory agent memory and conversation store, a user resolver that accepts everyone (vanna's
server has no authentication of its own), streamed LLM responses (as ours). Served by uvicorn, one process.
"""

import sys
from pathlib import Path

# Run as a script, this file's folder leads sys.path, where bench/platform.py would shadow the standard library's.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402

import uvicorn  # noqa: E402
from vanna import Agent, AgentConfig, ToolRegistry, User  # noqa: E402
from vanna.core.user import RequestContext, UserResolver  # noqa: E402
from vanna.integrations.local.agent_memory.in_memory import DemoAgentMemory  # noqa: E402
from vanna.integrations.openai import OpenAILlmService  # noqa: E402
from vanna.integrations.sqlite import SqliteRunner  # noqa: E402
from vanna.servers.fastapi import VannaFastAPIServer  # noqa: E402
from vanna.tools import RunSqlTool  # noqa: E402


class Everyone(UserResolver):
    async def resolve_user(self, request_context: RequestContext) -> User:
        return User(id="bench", username="bench", group_memberships=["user"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--llm-base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--database", required=True, help="the demo SQLite file")
    args = parser.parse_args()
    registry = ToolRegistry()
    registry.register_local_tool(RunSqlTool(sql_runner=SqliteRunner(database_path=args.database)), access_groups=[])
    agent = Agent(
        llm_service=OpenAILlmService(model="fake-model-1", api_key=args.api_key, base_url=args.llm_base_url),
        tool_registry=registry,
        user_resolver=Everyone(),
        agent_memory=DemoAgentMemory(),
        config=AgentConfig(stream_responses=True, temperature=0.0),
    )
    app = VannaFastAPIServer(agent).create_app()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", backlog=4096)


if __name__ == "__main__":
    main()
