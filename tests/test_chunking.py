import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_platform.rag import ChunkingPolicy, chunk_text

policies = st.integers(min_value=1, max_value=120).flatmap(
    lambda size: st.builds(ChunkingPolicy, st.just(size), st.integers(min_value=0, max_value=size - 1))
)
texts = st.text(alphabet=st.sampled_from("ab cd\nefg hij."), max_size=600)


@settings(max_examples=300, deadline=None)
@given(texts, policies)
def test_chunking_ends_with_bounded_chunks_that_cover_the_text(text, policy):
    chunks = chunk_text(text, policy)
    assert all(0 < len(c) <= policy.size for c in chunks)
    stripped = text.strip()
    # Every non-space character of the text is in some chunk, in order.
    position = 0
    for chunk in chunks:
        found = stripped.find(chunk, max(0, position - policy.size))
        assert found != -1
        position = found + len(chunk)
    assert "".join(stripped.split()) == "" or chunks


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (10, 10), (10, 11), (10, -1)])
def test_a_policy_that_could_not_advance_is_refused(size, overlap):
    with pytest.raises(ValueError, match="chunk"):
        ChunkingPolicy(size, overlap)


def test_whitespace_only_text_gives_no_chunks():
    assert chunk_text("   \n\t ", ChunkingPolicy(10, 2)) == []
