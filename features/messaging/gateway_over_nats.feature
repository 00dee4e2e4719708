@nats @gateway @scripted
Feature: Completions over NATS
  The API asks for a completion on the tenant's gateway subject and waits for the reply in its
  own reply inbox; a gateway worker of the queue group "gateway.workers" answers with the
  model's text and token usage.

  Scenario: A completion request queued by the API is answered by a gateway worker
    Given a gateway worker of the tenant listens for completion requests
    And the language model answers "Paris is the capital of France." when asked about "capital of France"
    When the API asks over the message bus for a completion of "What is the capital of France?"
    Then the reply over the message bus says "Paris is the capital of France."
    And the reply over the message bus carries the token usage

  Scenario: Two tenants asking at the same time each get their own answer
    Given a gateway worker of the tenant "acme" listens for completion requests
    And a gateway worker of the tenant "globex" listens for completion requests
    And the language model answers "Hello, Acme." when asked about "I am Acme"
    And the language model answers "Hello, Globex." when asked about "I am Globex"
    When the tenants "acme" and "globex" ask over the message bus at the same time, each introducing itself
    Then the tenant "acme" gets "Hello, Acme." and the tenant "globex" gets "Hello, Globex."
