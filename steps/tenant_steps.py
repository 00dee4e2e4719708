"""Steps for removing a tenant from the platform: what it owned before, and what is left of it after."""

from behave import given, then, when

from harness.waiting import wait_until

EMBEDDING_STARTED_BUDGET_S = 10.0  # the ingestion worker takes the queued document and asks for its embedding


@when("the platform removes the tenant")
def step_remove_tenant(context):
    """The operator removes the default tenant through the operator API."""
    world = context.world
    world.attempt(lambda: world.knowledge_base.remove_tenant())


@given('the tenant and the tenant "{other:Name}" each own, on the platform:')
def step_each_own(context, other):
    """Each tenant is given one of every kind in the table, through the platform's own doors."""
    kinds = [row[0] for row in context.table]
    for tenant in (None, other):
        context.world.holdings.give(kinds, tenant)


@when('the tenant "{tenant:Name}" adds the document "{title:Q}" with the text "{text:Q}" through the RAG API, '
      "for ingestion in the background")
def step_other_queues(context, tenant, title, text):
    """Another tenant's document, queued (202) behind the ones before it."""
    context.world.holdings.queue_document(title, text, tenant)


@when('the platform removes the tenant while the RAG service is embedding "{title:Q}"')
def step_remove_while_embedding(context, title):
    """Once the embedding model has been asked for the queued document's text (and before it answers), the
    operator removes the tenant; what every other tenant owns is read just before. Then the model
    answers, so the RAG service goes on to store the document, unless the removal stops it."""
    world = context.world
    text = world.services.document_texts[title]
    asked = wait_until(lambda: [e for e in world.model.requests_to("embedding") if any(i in text for i in e.inputs)],
                       EMBEDDING_STARTED_BUDGET_S, f"the RAG service to ask for the embedding of {title!r}")
    world.attempt(lambda: world.holdings.remove())

    def answered():
        return [e for e in world.model.requests_to("embedding")
                if e.request_id == asked[0].request_id and e.outcome == "answered"]
    assert not answered(), f"expected the removal to be over while {title!r} was still being embedded; the model " \
                           "had answered first: make the embedding slower"
    # The worker gets its embedding after the removal, and so has its chance to store the document.
    wait_until(answered, EMBEDDING_STARTED_BUDGET_S, f"the embedding model to answer for {title!r} after the removal")


@then("the tenant owns nothing of any kind any more")
def step_owns_nothing(context):
    """Every kind the tenant owned, read through the tenant's API, the operator's NATS and the database, is empty."""
    world = context.world
    world.outcome.expect_result("the tenant removed")
    left = world.holdings.left()
    assert not left, f"expected nothing of the tenant left, found {left}"


@then('the tenant "{tenant:Name}" still owns everything it owned before the removal')
def step_still_owns(context, tenant):
    """The other tenant's readings after the removal are those just before it, kind by kind."""
    holdings = context.world.holdings
    before, after = holdings.before[tenant], holdings.read(tenant=tenant)
    changed = {kind: {"before": before[kind], "after": after[kind]} for kind in before if before[kind] != after[kind]}
    assert not changed, f"expected the tenant {tenant} to keep everything it owned, these changed: {changed}"


@then("NATS keeps no message and no consumer of the tenant")
def step_nats_keeps_nothing(context):
    """Read through the JetStream API: the streams hold nothing of the tenant."""
    context.world.outcome.expect_result("the tenant removed")
    kept = context.world.messaging.tenant_in_streams()
    assert kept and not any(kept.values()), f"expected nothing of the tenant in the streams, NATS keeps {kept}"


@then('the RAG API lists "{title:Q}" among the documents of the tenant "{tenant:Name}"')
def step_listed_among(context, title, tenant):
    """The tenant's document list holds the document, whatever else it holds."""
    titles = context.world.services.document_titles(tenant=tenant)
    assert title in titles, f"expected the tenant {tenant} to see {title!r}, it sees {titles}"
