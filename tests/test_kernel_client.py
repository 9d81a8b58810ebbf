"""The pooled kernels' notebook client: ready without a fixed wait, and nothing a cell prints is lost."""

from __future__ import annotations

import asyncio

import pytest
from jupyter_client.manager import KernelManager

from heartbeats_analysis.build import kernel_pool

KERNEL = "python3"  # the test interpreter's own kernel


@pytest.fixture
def manager():
    km = KernelManager(kernel_name=KERNEL, client_class=kernel_pool.ASYNC_CLIENT_CLASS)
    km.start_kernel()
    yield km
    if km.has_kernel:
        km.shutdown_kernel(now=True)


async def _first_cell_output(km: KernelManager, code: str) -> list[str]:
    """A new client, as each notebook gets: wait until ready, run one cell, collect what it printed."""
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        msg_id = client.execute(code)
        printed = []
        while True:
            msg = await client.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue  # the readiness check's own status messages
            if msg["msg_type"] == "stream":
                printed.append(msg["content"]["text"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return printed
    finally:
        client.stop_channels()


@pytest.mark.slow
def test_each_new_client_sees_everything_its_first_cell_prints(manager):
    assert type(manager.client()).__name__ == "PooledKernelClient"
    for notebook in range(5):
        assert asyncio.run(_first_cell_output(manager, f"print('notebook {notebook}')")) == [f"notebook {notebook}\n"]


@pytest.mark.slow
def test_a_kernel_that_died_is_named_instead_of_waited_for(manager):
    client = manager.client()
    client.start_channels()
    manager.provisioner.process.kill()
    manager.provisioner.process.wait()
    try:
        with pytest.raises(RuntimeError, match="Kernel died before replying to kernel_info"):
            asyncio.run(client.wait_for_ready(timeout=30))
    finally:
        client.stop_channels()
