import math

from harness.llm.embeddings import embed


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_same_text_same_vector_of_unit_length():
    first, second = embed("Annual plans can be refunded", 64), embed("Annual plans can be refunded", 64)
    assert first == second
    assert math.isclose(math.sqrt(sum(v * v for v in first)), 1.0)


def test_shared_words_score_higher_than_unrelated_text():
    question = embed("How do I get a refund on an annual plan?", 384)
    related = embed("Annual plans can be refunded within 30 days.", 384)
    unrelated = embed("Dogs are welcome in the office on Fridays.", 384)
    assert cosine(question, related) > 0.4 > 0.2 > cosine(question, unrelated)


def test_text_without_content_words_still_gets_a_valid_vector():
    vector = embed("the of and", 16)
    assert math.isclose(sum(v * v for v in vector), 1.0)
