"""The client a notebook uses to talk to a pooled kernel (kernel_pool names it by its import path).

jupyter_client's `wait_for_ready` asks for kernel_info, then waits up to 0.2 s for a message on IOPub to be sure
that channel is connected before any cell runs (a subscriber that connects late misses what was published
before). A new client's IOPub subscription is rarely in place for the first reply, so every notebook waited the
full 0.2 s on a kernel that was idle and warm: eight notebooks a brief. This client asks again every few
milliseconds instead, until a message on IOPub shows the channel is live.
"""

from __future__ import annotations

import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_core.utils import ensure_async

IOPUB_POLL_S = 0.01  # how long to wait for IOPub before asking for kernel_info again
SHELL_POLL_S = 1.0


class PooledKernelClient(AsyncKernelClient):
    """AsyncKernelClient whose readiness check costs milliseconds, not a fixed 0.2 s."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """Return once the kernel has answered kernel_info on the shell channel and IOPub has delivered a message
        (the kernel announces every request it handles there); raise RuntimeError if the kernel dies or does not
        answer within ``timeout`` seconds, as jupyter_client does."""
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            msg_id = self.kernel_info()
            reply = await self._reply_to(msg_id, deadline)
            if reply is not None:
                try:
                    await ensure_async(self.iopub_channel.get_msg(timeout=IOPUB_POLL_S))
                except Empty:
                    pass  # IOPub not connected yet: ask again
                else:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} s")

    async def _reply_to(self, msg_id: str, deadline: float) -> dict | None:
        """The shell reply to msg_id (replies to earlier requests are passed over), or None after SHELL_POLL_S."""
        give_up = min(deadline, time.monotonic() + SHELL_POLL_S)
        while (left := give_up - time.monotonic()) > 0:
            try:
                msg = await ensure_async(self.shell_channel.get_msg(timeout=left))
            except Empty:
                return None
            if msg["msg_type"] == "kernel_info_reply" and msg["parent_header"].get("msg_id") == msg_id:
                return msg
        return None
