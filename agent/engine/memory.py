"""vanna's ``AgentMemory`` seam for one run: read-only, over what the run already retrieved.

vanna hands the memory to tools (``ToolContext.agent_memory``) and to its default enhancer; its bundled
memories are process-global and let any tool call write to them. Here nothing writes during a chat: memories
are saved through the memory API and the feedback review queue (issue 16), where they can be approved.
Searches answer from the run's saved examples (``Run.examples``, retrieved before the run).
"""

from vanna.capabilities.agent_memory import AgentMemory
from vanna.capabilities.agent_memory.models import ToolMemory, ToolMemorySearchResult

from .run import current_run


class RunAgentMemory(AgentMemory):
    async def save_tool_usage(self, question, tool_name, args, context, success=True, metadata=None) -> None:
        return None  # saved through the review queue, not by the model

    async def save_text_memory(self, content, context):
        raise PermissionError("Memories are saved through the memory API, not during a chat")

    async def search_similar_usage(
        self, question, context, *, limit=10, similarity_threshold=0.7, tool_name_filter=None
    ) -> list[ToolMemorySearchResult]:
        run = current_run.get()
        found = []
        for rank, example in enumerate(run.examples[:limit] if run else [], start=1):
            memory = ToolMemory(
                memory_id=str(example["id"]),
                question=example["question"],
                tool_name="run_sql",
                args={"sql": example["sql"]},
            )
            found.append(ToolMemorySearchResult(memory=memory, similarity_score=float(example["score"]), rank=rank))
        return found

    async def search_text_memories(self, query, context, *, limit=10, similarity_threshold=0.7):
        return []

    async def get_recent_memories(self, context, limit=10):
        return []

    async def get_recent_text_memories(self, context, limit=10):
        return []

    async def delete_by_id(self, context, memory_id) -> bool:
        return False

    async def delete_text_memory(self, context, memory_id) -> bool:
        return False

    async def clear_memories(self, context, tool_name=None, before_date=None) -> int:
        return 0
