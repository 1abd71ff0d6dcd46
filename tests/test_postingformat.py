"""The posting value of the text fields: varint gaps, read back exactly, and
told apart from Whoosh's ``Positions`` values of older indexes."""

import pickle
import random
import struct
import zlib

import pytest
from whoosh import formats
from whoosh.analysis import Token

from searchengine import postingformat
from searchengine.postingformat import CompactPositions


def random_positions(rng: random.Random) -> list[int]:
    """Ascending positions with gaps of every varint length (1 to 4 bytes)."""
    found, position = [], -1
    for _ in range(rng.randint(1, 40)):
        position += rng.choice((1, 2, 127, 128, 129, 16_383, 16_384, 300_000, rng.randint(1, 5_000)))
        found.append(position)
    return found


def test_positions_are_read_back_as_written():
    rng = random.Random(7)
    fmt = CompactPositions()
    for where in [[0], [1], [127], [128], [0, 1, 2]] + [random_positions(rng) for _ in range(500)]:
        value = fmt.encode(where)
        assert fmt.decode_positions(value) == where
        assert postingformat.positions(value) == where
        assert fmt.decode_frequency(value) == len(where) == fmt.decode_weight(value)
        assert value[0] != 0  # what tells it from a Positions value


def test_a_word_found_once_near_the_start_takes_one_byte():
    assert CompactPositions().encode([5]) == b"\x06"
    assert len(CompactPositions().encode([3, 9, 200])) == 4  # gaps 4, 6 and 191 (two bytes)


def test_whoosh_positions_values_of_older_indexes_are_still_read():
    rng = random.Random(8)
    old = formats.Positions()
    for where in [[0], [5]] + [random_positions(rng) for _ in range(200)]:
        assert postingformat.positions(old.encode(where)) == where


def test_values_read_together_give_the_positions_of_each_read_alone():
    rng = random.Random(9)
    fmt, old = CompactPositions(), formats.Positions()
    batches = [[[0, 1, 2], [5, 9], [126]]]  # every gap under 128
    batches += [[random_positions(rng) for _ in range(size)] for size in (1, 2, 50, 300)]
    batches.append([[3, 3, 200], [0, 0]])  # a position twice: a gap of 0
    for lists in batches:
        for values in ([fmt.encode(where) for where in lists], [old.encode(where) for where in lists]):
            counts, flat = postingformat.positions_of(values)
            assert counts.tolist() == [len(postingformat.positions(value)) for value in values]
            assert flat.tolist() == [p for value in values for p in postingformat.positions(value)]
    assert [found.tolist() for found in postingformat.positions_of([])] == [[], []]


def test_the_format_pickles_by_name_and_combines_as_whoosh_does():
    fmt = pickle.loads(pickle.dumps(CompactPositions()))
    assert fmt == CompactPositions() != formats.Positions()
    assert fmt.supports("positions") and fmt.supports("frequency")
    assert fmt.decode_positions(fmt.combine([fmt.encode([1, 9]), fmt.encode([4, 9])])) == [1, 4, 9]


@pytest.mark.parametrize("text", ["le chat et le chien", "un"])
def test_whoosh_indexes_a_text_through_it(text):
    postings = {word: (freq, weight, value) for word, freq, weight, value in
                CompactPositions().word_values(text, lambda value, **_: _tokens(value))}
    for word, (freq, weight, value) in postings.items():
        where = [i for i, w in enumerate(text.split()) if w == word]
        assert (freq, weight, postingformat.decode(value)) == (len(where), len(where), where)


def _tokens(text):
    for position, word in enumerate(text.split()):
        yield Token(text=word, pos=position, boost=1.0, positions=True)


def random_block(rng: random.Random, count: int, ones: bool):
    """Gaps (of every width; the first may be 0: document 0), frequencies and values of a block."""
    gaps = [rng.choice((0, 1)), *(rng.choice((1, 5, 127, 128, 255, 256, 16_384, 65_536, 2_000_000))
                                  for _ in range(count - 1))]
    where = [random_positions(rng)[:1] if ones else random_positions(rng) for _ in range(count)]
    return gaps, [len(w) for w in where], [postingformat.encode(w) for w in where]


def first_layout(gaps, frequencies, values) -> bytes:
    """A packed block of the first layout: numbers whole, not in byte planes."""
    ones = all(f == 1 for f in frequencies)
    code = lambda numbers: 0 if max(numbers) < 0x100 else 1 if max(numbers) < 0x10000 else 2  # noqa: E731
    letter = "BHI"
    parts = [bytes((code(gaps) | (0 if ones else 1 + code(frequencies)) << 2,)), postingformat.encode([len(gaps) - 1]),
             struct.pack(f"<{len(gaps)}{letter[code(gaps)]}", *gaps)]
    if not ones:
        parts.append(struct.pack(f"<{len(gaps)}{letter[code(frequencies)]}", *frequencies))
    return b"".join((*parts, b"\0".join(values)))


@pytest.mark.parametrize("layout", [postingformat.pack_block, first_layout])
def test_a_packed_block_unpickles_to_the_tuple_whoosh_reads(layout):
    rng = random.Random(9)
    for count in (1, 2, 8, 127, 128, 129, 300):
        for ones in (True, False):
            gaps, frequencies, values = random_block(rng, count, ones)
            found = postingformat.block(layout(gaps, frequencies, values))
            assert found == (tuple(gaps), None if ones else tuple(frequencies), tuple(values))


def test_a_packed_block_is_smaller_than_whooshs_tuple():
    rng = random.Random(10)
    gaps = [rng.randint(1, 40) for _ in range(128)]
    values = [postingformat.encode(sorted(rng.sample(range(300), rng.choice((1, 1, 2, 3))))) for _ in range(128)]
    frequencies = [postingformat.frequency(v) for v in values]
    packed = postingformat.pack_block(gaps, frequencies, values)
    assert len(packed) < len(pickle.dumps((tuple(gaps), tuple(frequencies), tuple(values)), 4)) * 0.6


def test_numbers_in_byte_planes_deflate_smaller_than_whole():
    rng = random.Random(12)
    gaps = [1 + int(rng.expovariate(1 / 150)) for _ in range(128)]  # a common word's: a few over 255
    values = [postingformat.encode([rng.randint(0, 126)]) for _ in range(128)]
    frequencies = [1] * 128
    planes = zlib.compress(postingformat.pack_block(gaps, frequencies, values), 3)
    assert len(planes) < len(zlib.compress(first_layout(gaps, frequencies, values), 3))


def test_a_block_with_a_position_twice_is_not_packed():
    assert postingformat.pack_block([1, 2], [1, 2], [b"\x01", postingformat.encode([3, 3])]) is None


def test_a_pickle_names_the_block_reader_in_two_bytes():
    pickled = pickle.dumps(postingformat.block, 2)
    assert len(pickled) == 5 and pickle.loads(pickled) is postingformat.block  # PROTO, EXT1 and its code, STOP
