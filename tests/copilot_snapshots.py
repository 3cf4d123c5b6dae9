"""Signal snapshots shared by the copilot's workflow, fault and secrets tests (importable from every
test folder: pytest puts this folder on sys.path for ``tests/conftest.py``)."""

from __future__ import annotations

from whenever import Instant

from temporal_dsql_copilot.signals import AmplifierSignals, PrimarySignals, SignalSnapshot, WorkerSignals

__all__ = ["stressed_mid_snapshot"]


def stressed_mid_snapshot() -> SignalSnapshot:
    """A mid-band cluster making progress with slow persistence and no free workflow slots: the
    state machine calls it Stressed, so an assessment has issues and worker advice to explain."""
    return SignalSnapshot(observed_at=Instant.now().format_iso(),
                          primary=PrimarySignals(state_transitions_per_sec=120, backlog_age_sec=2,
                                                 workflow_completions_per_sec=10, workflow_failures_per_sec=0),
                          amplifiers=AmplifierSignals(persistence_latency_p99_ms=900),
                          worker=WorkerSignals(workflow_slots_available=0))
