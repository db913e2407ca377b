"""Polling helpers for tests that watch background work (jobs, servers, browsers)."""
import time


def wait_for(predicate, timeout=120, poll=0.02):
    """predicate()'s first truthy value, polled every `poll` seconds; AssertionError after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError("condition not reached in time")


def wait_idle(page):
    """Until the Streamlit page in a Playwright `page` has finished its rerun."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
