"""The ids of a first sync's window cut into ranges (source_hubspot/id_ranges.IdRanges): who takes which ids, and the
check where a list started at an id meets the list read from below."""

from __future__ import annotations

import threading

from source_hubspot.id_ranges import _NONE, IdRanges


def _ranges() -> IdRanges:
    # Ids 1000..1999; lists cut 300 ids at a time, searches 200.
    return IdRanges(1000, 1999, list_span=300, search_span=200)


def test_lists_cut_from_the_bottom_and_searches_from_the_top_until_they_meet_each_id_once():
    ranges = _ranges()
    assert ranges.take_low() == (0, 1300)  # from the list's beginning: ids below the window's lowest come too
    assert ranges.take_high() == (1800, None)  # every id from 1800 up, those above the highest included
    assert ranges.take_low() == (1300, 1600)
    assert ranges.take_high() == (1600, 1800)
    assert ranges.take_low() is None and ranges.take_high() is None
    assert ranges.taken == 4


def test_near_the_end_of_a_window_each_cut_takes_its_share_of_the_ids_left_down_to_a_least_span():
    # Ids 0..99,999, 11 readers: full spans 8,000 (list) and 4,000 (search); shares of what is left below them.
    ranges = IdRanges(0, 99_999, list_span=8_000, search_span=4_000, readers=11)
    cuts = []
    while True:
        low, high = ranges.take_low(), ranges.take_high()
        if low is None and high is None:
            break
        cuts += [("list", *low)] if low else []
        cuts += [("search", high[0], high[1] if high[1] is not None else 100_000)] if high else []
    spans = {kind: [end - start for k, start, end in cuts if k == kind] for kind in ("list", "search")}
    assert spans["list"][0] == 8_000 and spans["search"][0] == 4_000  # far from the end: full spans
    assert min(spans["list"][:-1]) == 1_000 and min(spans["search"]) >= 1_000  # never below 1/8 and 1/4 of them
    assert spans["list"][-2] < 2_000  # the last cuts are small: readers finish together
    covered = sorted((start, end) for _, start, end in cuts)
    assert covered[0][0] == 0 and covered[-1][1] == 100_000
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:]))  # each id once, no gap


def test_a_list_goes_on_into_the_next_ids_only_while_no_reader_has_taken_them():
    ranges = _ranges()
    assert ranges.take_low() == (0, 1300)
    assert ranges.go_on(1300) == (1300, 1600)  # nobody took 1300 on: the same list reads them
    assert ranges.take_low() == (1600, 1900)
    assert ranges.go_on(1600) is None  # 1600 on is another list's
    assert ranges.take_high() == (1900, None)
    assert ranges.go_on(1900) is None


def test_a_list_alone_takes_every_id_up_in_one_open_range_at_the_top():
    ranges = _ranges()
    assert ranges.take_low() == (0, 1300)
    assert ranges.go_on(1300) == (1300, 1600)
    assert ranges.go_on(1600) == (1600, 1900)
    assert ranges.go_on(1900) == (1900, None)
    assert ranges.take_low() is None and ranges.take_high() is None


def test_a_list_started_at_an_id_must_give_first_what_the_list_from_below_gave_past_that_boundary():
    agreeing = _ranges()
    agreeing.started(1300, 1303)
    agreeing.reached(1300, 1303)
    assert agreeing.failure is None and agreeing.unchecked() == []

    skipping = _ranges()
    skipping.reached(1300, 1301)  # either order: the check runs when both are known
    skipping.started(1300, 1303)  # 1301 and 1302 were passed over
    assert skipping.failure and "1303" in skipping.failure and "1301" in skipping.failure

    ended = _ranges()
    ended.started(1300, 1350)
    ended.reached(1300, _NONE)  # the list from below ended before 1300, yet the started one gave 1350
    assert ended.failure

    waiting = _ranges()
    waiting.started(1300, 1303)
    assert waiting.unchecked() == [1300]  # not confirmed: the read falls back


def test_after_a_failure_no_reader_takes_more_ids():
    ranges = _ranges()
    ranges.fail("the list gave id 5 after 9")
    ranges.fail("a later reason")
    assert ranges.failure == "the list gave id 5 after 9"
    assert ranges.take_low() is None and ranges.take_high() is None and ranges.go_on(0) is None


def test_the_first_list_started_at_an_id_goes_alone_until_its_first_page_is_checked():
    ranges, cancelled = _ranges(), threading.Event()
    assert ranges.may_start(cancelled)  # the first goes at once
    results = []
    waiting = threading.Thread(target=lambda: results.append(ranges.may_start(cancelled)))
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive(), "the second waits for the first one's page"
    ranges.fail("HubSpot's list refused the id 1300 as its cursor")
    waiting.join(2)
    assert results == [False]
