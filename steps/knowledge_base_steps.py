"""Steps for the knowledge base: adding documents, asking questions, what is stored."""

from behave import given, then, when

from ai_contract.answers import NOT_IN_KNOWLEDGE_BASE
from harness.drivers.knowledge_base import document_id, similarity_threshold


@given("documents are split into chunks of at most {size:d} characters that overlap by {overlap:d}")
def step_chunking(context, size, overlap):
    """The platform's chunk size and overlap for this scenario."""
    context.world.configure(chunk_size=size, chunk_overlap=overlap)


@given("the knowledge base only uses passages with a similarity of at least {threshold:g}")
def step_threshold(context, threshold):
    """The similarity a passage needs before the knowledge base uses it."""
    context.world.configure(similarity_threshold=threshold)


@given("the knowledge base of the tenant holds these documents:")
def step_documents_table(context):
    """The default tenant's knowledge base holds the documents of the table (title, text)."""
    for row in context.table:
        context.world.knowledge_base.add(row["title"], row["text"])


@given('the tenant has added the document "{title:Q}" with the text "{text:Q}"')
@given('the tenant "{tenant:Name}" has added the document "{title:Q}" with the text "{text:Q}"')
def step_has_added(context, title, text, tenant=None):
    """A document already in a tenant's knowledge base."""
    context.world.knowledge_base.add(title, text, tenant=tenant)


@when('the tenant adds the document "{title:Q}" with the text "{text:Q}"')
def step_add_document(context, title, text):
    """The tenant adds a document; a refusal is the outcome."""
    world = context.world
    world.attempt(lambda: world.knowledge_base.add(title, text))


@when('the tenant adds the document "{title:Q}" with this text:')
def step_add_document_text(context, title):
    """The tenant adds a document whose text is the step's text block."""
    world = context.world
    world.attempt(lambda: world.knowledge_base.add(title, context.text))


@when('the tenant adds the document "{title:Q}" of type "{content_type:Q}" with the text "{text:Q}"')
def step_add_typed_document(context, title, content_type, text):
    """The tenant adds a document of a given content type."""
    world = context.world
    world.attempt(lambda: world.knowledge_base.add(title, text, content_type=content_type))


@when('the tenant asks the knowledge base "{question:Q}"')
@when('the tenant "{tenant:Name}" asks the knowledge base "{question:Q}"')
def step_ask(context, question, tenant=None):
    """A tenant asks its knowledge base a question."""
    world = context.world
    world.attempt(lambda: world.knowledge_base.ask(question, tenant=tenant))


@then('the knowledge base of the tenant holds the document "{title:Q}"')
def step_holds(context, title):
    """The document is stored for the default tenant."""
    context.world.outcome.expect_result(f"{title!r} stored")
    held = context.world.knowledge_base.document_ids()
    assert document_id(title) in held, f"expected {title!r} in the knowledge base, it holds {held}"


@then('the knowledge base of the tenant holds the document "{title:Q}" once, as {count:d} chunk')
def step_holds_once(context, title, count):
    """The document is stored once, with exactly that many chunks."""
    held = context.world.knowledge_base.held()
    assert held == {document_id(title): count}, (
        f"expected only {title!r}, once, as {count} chunk(s); the knowledge base lists {held} (id: chunks)")


@then('the tenant reads the document "{title:Q}" back by its id: of type "{content_type:Q}", stored as {count:d} '
      "chunks")
@then('the tenant reads the document "{title:Q}" back by its id: of type "{content_type:Q}", stored as {count:d} '
      "chunk")
def step_read_back(context, title, content_type, count):
    """The document by its id: its id, title, content type and chunk count, exactly."""
    read = context.world.knowledge_base.read(title)
    assert read.status_code == 200, f"expected {title!r} by its id (200), got {read.status_code}: {read.text}"
    expected = {"document_id": document_id(title), "title": title, "content_type": content_type, "chunks": count}
    seen = read.json()["data"]
    assert seen == expected, f"expected the document {expected}, the API gave {seen}"


@then('the tenant "{tenant:Name}" reading the document "{title:Q}" by its id is told there is no such document')
def step_read_other_tenant(context, tenant, title):
    """Another tenant's document, asked for by its id: 404 NOT_FOUND, as for a document that never was."""
    read = context.world.knowledge_base.read(title, tenant=tenant)
    code = (read.json().get("error") or {}).get("code")
    assert (read.status_code, code) == (404, "NOT_FOUND"), (
        f"expected 404 NOT_FOUND for another tenant's document, got {read.status_code}: {read.text}")


@then('the knowledge base of the tenant "{tenant:Name}" holds only "{title:Q}"')
def step_holds_only(context, tenant, title):
    """A tenant's knowledge base holds that one document and nothing else."""
    held = context.world.knowledge_base.document_ids(tenant=tenant)
    assert held == [document_id(title)], f"expected tenant {tenant} to hold only {title!r}, it holds {held}"


@then('"{title:Q}" is stored as {count:d} chunks of at most {size:d} characters')
def step_chunk_count(context, title, count, size):
    """The stored chunks of a document: how many, and how long at most."""
    chunks = context.world.knowledge_base.chunks(title)
    lengths = [len(c.text) for c in chunks]
    assert len(chunks) == count, f"expected {count} chunks of {title!r}, found {len(chunks)} of lengths {lengths}"
    assert max(lengths) <= size, f"expected no chunk longer than {size} characters, lengths were {lengths}"


@then('every chunk of "{title:Q}" keeps its text and an embedding from the embedding model')
def step_chunks_embedded(context, title):
    """Each stored chunk has text and an embedding of the model's dimensions."""
    dimensions = context.world.session.dimensions
    for chunk in context.world.knowledge_base.chunks(title):
        assert chunk.text.strip(), f"chunk {chunk.ordinal} of {title!r} has no text"
        assert chunk.dimensions == dimensions, (
            f"chunk {chunk.ordinal} has an embedding of {chunk.dimensions} dimensions, expected {dimensions}"
        )


@then('the chunks of "{title:Q}" together cover the whole text, in order')
def step_chunks_cover(context, title):
    """The stored chunks, read in order, leave no part of the document out."""
    kb = context.world.knowledge_base
    text = " ".join(kb.texts[title].split())
    covered_to, position = 0, 0
    for chunk in kb.chunks(title):
        piece = " ".join(chunk.text.split())
        found = text.find(piece, position)
        assert found != -1, f"chunk {chunk.ordinal} is not a passage of the document, in order: {piece!r}"
        gap = text[covered_to:found]
        assert found <= covered_to + 1, f"text between {covered_to} and {found} is in no chunk: {gap!r}"
        covered_to, position = max(covered_to, found + len(piece)), found + 1
    assert covered_to == len(text), f"the end of the document is in no chunk: {text[covered_to:]!r}"


@then('each chunk of "{title:Q}" after the first begins with the last {overlap:d} characters of the one before')
def step_chunks_overlap(context, title, overlap):
    """Neighbouring chunks share the overlap the operator set, no more (spaces at a cut aside)."""
    texts = [" ".join(chunk.text.split()) for chunk in context.world.knowledge_base.chunks(title)]
    for number, (before, after) in enumerate(zip(texts, texts[1:], strict=False), start=2):
        shared = max((k for k in range(1, min(len(before), len(after)) + 1) if before[-k:] == after[:k]), default=0)
        assert after.startswith(before[-overlap:].strip()) and shared <= overlap, (
            f"expected chunk {number} of {title!r} to begin with the last {overlap} characters of chunk {number - 1} "
            f"({before[-overlap:]!r}), it shares {shared} characters: it begins {after[:overlap + 20]!r}")


@then('the stored text of "{title:Q}" mentions "{present:Q}" and not "{absent:Q}"')
def step_stored_text(context, title, present, absent):
    """What the stored chunks of a document say."""
    text = " ".join(c.text for c in context.world.knowledge_base.chunks(title))
    assert present in text and absent not in text, f"expected {present!r} and not {absent!r} in {text!r}"


@then("the document is refused because it {reason:Phrase}")
def step_refused(context, reason):
    """Adding the document failed, and the refusal says why."""
    error = context.world.outcome.expect_error(f"the document refused because it {reason}")
    assert reason in str(error), f"expected the refusal to say {reason!r}, it said: {error}"


@then("adding the document fails because the model provider is unavailable")
def step_ingest_provider_down(context):
    """Adding the document failed with provider_unavailable."""
    error = context.world.outcome.expect_error("adding the document to fail")
    assert getattr(error, "reason", "") == "provider_unavailable", (
        f"expected adding the document to fail with provider_unavailable, got: {error!r}"
    )


@then("nothing is stored for the tenant")
@then('nothing is stored for the tenant "{tenant:Name}"')
def step_nothing_stored(context, tenant=None):
    """The platform's API lists no document and no agent of the tenant."""
    world = context.world
    documents, agents = world.knowledge_base.document_ids(tenant=tenant), world.agents.listed(tenant=tenant)
    assert not documents and not agents, f"expected nothing stored for the tenant, the API lists documents " \
                                         f"{documents} and agents {agents}"


@then("the database keeps no row of the tenant")
def step_no_rows(context):
    """An independent read of the platform's database finds no row of the tenant in any table."""
    rows = context.world.knowledge_base.row_counts()
    assert not any(rows.values()), f"expected no rows for the tenant, found {rows}"


@then('the answer is "{text:Q}"')
def step_answer_is(context, text):
    """The knowledge base's answer, word for word."""
    answer = context.world.outcome.expect_result("an answer").answer
    assert answer == text, f"expected the answer {text!r}, got {answer!r}"


@then("the answer says it rests on passages of the knowledge base")
def step_grounded(context):
    """The service marks the answer grounded, and shows the passages it rests on."""
    answer = context.world.outcome.expect_result("an answer")
    assert answer.grounded is True and answer.passages, (
        f"expected a grounded answer with its passages, got grounded {answer.grounded!r} and "
        f"{len(answer.passages)} passage(s)")


@then('the answer cites "{title:Q}"')
def step_cites(context, title):
    """The answer names the document among its sources."""
    sources = context.world.outcome.expect_result("an answer").sources
    assert title in sources, f"expected {title!r} among the sources, the answer cited {sources}"


@then('the answer does not cite "{title:Q}"')
def step_not_cites(context, title):
    """The answer does not name the document among its sources."""
    sources = context.world.outcome.expect_result("an answer").sources
    assert title not in sources, f"expected {title!r} not to be cited, the answer cited {sources}"


@then("the answer cites no source")
def step_no_sources(context):
    """The answer names no source."""
    sources = context.world.outcome.expect_result("an answer").sources
    assert sources == [], f"expected no sources, got {sources}"


@then("the answer says the knowledge base does not cover the question")
def step_not_covered(context):
    """The caller gets the platform's 'not in the knowledge base' answer, with no passage."""
    answer = context.world.outcome.expect_result("an answer")
    assert answer.answer == NOT_IN_KNOWLEDGE_BASE and not answer.passages and answer.grounded is False, (
        f"expected the answer {NOT_IN_KNOWLEDGE_BASE!r}, not grounded, with no passages; got {answer.answer!r} "
        f"(grounded: {answer.grounded!r}) from passages {[(p.title, round(p.score, 3)) for p in answer.passages]}"
    )


@given("the knowledge base uses the {top_k:d} best passages with {similarity:Phrase}")
def step_top_k_threshold(context, top_k, similarity):
    """How many passages a question may use, and the similarity they need (or the platform's own)."""
    context.world.configure(top_k=top_k, similarity_threshold=similarity_threshold(similarity))


@then("the answer rests on {count:d} passages, best first")
def step_rests_on(context, count):
    """How many passages the answer returned, in order of similarity, and the sources they name."""
    answer = context.world.outcome.expect_result("an answer")
    scores = [round(p.score, 4) for p in answer.passages]
    assert len(answer.passages) == count, f"expected {count} passages, got {len(scores)} with scores {scores}"
    assert scores == sorted(scores, reverse=True), f"expected the best passage first, the scores were {scores}"
    titles = list(dict.fromkeys(p.title for p in answer.passages))
    if count == 0:
        assert answer.answer == NOT_IN_KNOWLEDGE_BASE, f"expected {NOT_IN_KNOWLEDGE_BASE!r}, got {answer.answer!r}"
    assert answer.sources == titles, f"expected the sources {titles} of the passages, the answer cited {answer.sources}"


@then("the language model was shown {count:d} passages")
@then("the language model was shown {count:d} passage, numbered")
def step_model_shown(context, count):
    """The grounded prompt numbers exactly that many passages; with none, the model is not asked."""
    chats = context.world.model.chats()
    if count == 0:
        assert not chats, f"expected the model not to be asked, it was asked {len(chats)} time(s)"
        return
    prompt = context.world.model.last_prompt()
    shown = [i for i in range(1, count + 2) if f"[{i}] (" in prompt]
    assert shown == list(range(1, count + 1)), f"expected passages [1]..[{count}] in the prompt, saw {shown}:\n{prompt}"


@then("the answer reports the token usage the language model reported")
def step_rag_usage(context):
    """The RAG answer's usage is the model's own count for the grounded prompt, unswapped."""
    usage = context.world.outcome.expect_result("an answer").usage
    reported = context.world.model.chats()[-1].usage
    assert reported["prompt_tokens"] != reported["completion_tokens"], f"the sample cannot tell a swap: {reported}"
    assert usage == reported, f"expected the model's usage {reported}, the answer reported {usage}"


@when('the tenant searches the knowledge base by {form:Phrase} "{question:Q}", keeping the {top_k:d} best '
      "passages with {similarity:Phrase}")
def step_search(context, form, question, top_k, similarity):
    """A search by the question's text or by its embedding (as the gateway service gives it)."""
    assert form in ("the text", "the embedding of"), f"no search by {form!r}"
    world = context.world
    world.attempt(lambda: world.knowledge_base.search(question, by_embedding=form == "the embedding of",
                                                      top_k=top_k, threshold=similarity_threshold(similarity)))


@then('the search finds {count:d} passages, best first, the first from "{title:Q}"')
def step_search_finds(context, count, title):
    """How many passages the search returned, in order of similarity, and the best one's document."""
    found = context.world.outcome.expect_result("the search's passages")
    seen = [(p.title, round(p.score, 4)) for p in found]
    scores = [p.score for p in found]
    assert len(found) == count, f"expected {count} passages, found {seen}"
    assert scores == sorted(scores, reverse=True) and found[0].title == title, (
        f"expected {title!r} first and the rest in order of similarity, found {seen}")
