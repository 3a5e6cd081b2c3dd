"""The ranges of a first sync's window (source_hubspot/id_ranges.IdRanges): who takes which range, and the check
where a list started at an id meets the list read from below."""

from __future__ import annotations

import threading

from source_hubspot.id_ranges import _NONE, IdRanges


def test_lists_take_ranges_from_the_bottom_and_searches_from_the_top_each_once():
    ranges = IdRanges([0, 100, 200, 300])
    assert [ranges.take_low(), ranges.take_high(), ranges.take_low(), ranges.take_high(), ranges.take_low()] == [0, 3, 1, 2, None]


def test_a_list_goes_on_into_the_next_range_only_while_no_reader_has_taken_it():
    ranges = IdRanges([0, 100, 200, 300])
    assert ranges.take_low() == 0
    assert ranges.go_on(0)  # range 1 was free: the same list reads it
    assert ranges.take_high() == 3
    assert ranges.take_low() == 2
    assert not ranges.go_on(1)  # range 2 is another list's


def test_a_list_started_at_an_id_must_give_first_what_the_list_from_below_gave_past_that_boundary():
    agreeing = IdRanges([0, 100, 200])
    agreeing.started(1, 103)
    agreeing.reached(1, 103)
    assert agreeing.failure is None and agreeing.unchecked() == []

    skipping = IdRanges([0, 100, 200])
    skipping.reached(1, 101)  # either order: the check runs when both are known
    skipping.started(1, 103)  # 101 and 102 were passed over
    assert skipping.failure and "103" in skipping.failure and "101" in skipping.failure

    ended = IdRanges([0, 100, 200])
    ended.started(1, 150)
    ended.reached(1, _NONE)  # the list from below ended before 100, yet the started one gave 150
    assert ended.failure

    waiting = IdRanges([0, 100, 200])
    waiting.started(1, 103)
    assert waiting.unchecked() == [1]  # not confirmed: the read falls back


def test_after_a_failure_no_reader_takes_another_range():
    ranges = IdRanges([0, 100, 200, 300])
    ranges.fail("the list gave id 5 after 9")
    ranges.fail("a later reason")
    assert ranges.failure == "the list gave id 5 after 9"
    assert ranges.take_low() is None and ranges.take_high() is None


def test_the_first_list_started_at_an_id_goes_alone_until_its_first_page_is_checked():
    ranges, cancelled = IdRanges([0, 100, 200, 300]), threading.Event()
    assert ranges.may_start(cancelled)  # the first goes at once
    results = []
    waiting = threading.Thread(target=lambda: results.append(ranges.may_start(cancelled)))
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive(), "the second waits for the first one's page"
    ranges.fail("HubSpot's list refused the id 100 as its cursor")
    waiting.join(2)
    assert results == [False]
