"""The terminal probe's counting (console/session.TerminalProbe): gone only after answering."""

from __future__ import annotations

from console.session import TerminalProbe


def test_gone_after_three_unanswered_requests_once_it_answered():
    probe = TerminalProbe()
    assert probe.tick() == "ask"
    probe.answered()
    assert [probe.tick() for _ in range(4)] == ["ask", "ask", "ask", "gone"]


def test_each_answer_starts_the_count_again():
    probe = TerminalProbe()
    for _ in range(20):
        assert probe.tick() == "ask"
        assert probe.tick() == "ask"
        probe.answered()  # a slow link: every other request answered
    assert probe.tick() == "ask"


def test_a_terminal_that_never_answers_is_asked_three_times_then_left_alone():
    probe = TerminalProbe()
    assert [probe.tick() for _ in range(10)] == ["ask"] * 3 + [""] * 7
    probe.answered()  # a late first answer arms it after all
    assert [probe.tick() for _ in range(4)] == ["ask", "ask", "ask", "gone"]
