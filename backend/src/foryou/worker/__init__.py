"""The keep-alive worker: refreshes amoCRM connections before they are needed or die."""

from foryou.worker.keepalive import KeepAliveWorker, RunCounts

__all__ = ["KeepAliveWorker", "RunCounts"]
