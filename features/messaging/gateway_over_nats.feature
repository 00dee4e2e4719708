@nats @gateway @scripted
Feature: Completions over NATS
  The API asks for a completion on the tenant's gateway subject and waits for the reply in its
  own reply inbox. The gateway service's worker, in the queue group "gateway.workers", serves
  every tenant and answers with the model's text and token usage. A request is served only for
  the tenant whose subject it came on, and only for the models the gateway offers; anything else
  gets an error reply that says why.

  Background:
    Given the gateway service takes completion requests from the message bus

  Scenario: A completion request queued by the API is answered by the gateway service
    Given the language model answers "Paris, on the Seine, has been the capital of France since 987." when asked about "capital of France"
    When the API asks over the message bus for a completion of "What is the capital of France?"
    Then the reply over the message bus says "Paris, on the Seine, has been the capital of France since 987."
    And the reply over the message bus carries the token usage the language model reported

  Scenario: Two tenants asking at the same time each get their own answer
    Given the language model answers "Hello, Acme." when asked about "I am Acme"
    And the language model answers "Hello, Globex." when asked about "I am Globex"
    When the tenants "acme" and "globex" ask over the message bus at the same time, each introducing itself
    Then the tenant "acme" gets "Hello, Acme." and the tenant "globex" gets "Hello, Globex."

  @security
  Scenario: A request that claims to come from another tenant is refused before the model is asked
    When a producer sends a completion request on the tenant's subject that claims to come from the tenant "globex"
    Then the caller is told, in the headers and in an error envelope, that the request was refused as "tenant_mismatch"
    And the language model was not asked for an answer

  @security
  Scenario: A request whose body names another tenant is refused
    When the API asks over the message bus for a completion whose request names the tenant "globex"
    Then the request is refused as "tenant_mismatch", naming "globex"
    And the language model was not asked for an answer

  Scenario: A request for a model the gateway does not offer is refused with the models it does offer
    When the API asks over the message bus for a completion by the model "gpt-9-turbo"
    Then the request is refused as "unknown_model", naming "gpt-9-turbo"
    And the language model was not asked for an answer

  Scenario Outline: A conversation and its parameters reach the model through the gateway service (<format>)
    When the API sends over the message bus, as <format>, a request at temperature 0.2 for at most 256 tokens with the conversation:
      | role      | content                                 |
      | system    | You answer from the tenant's documents. |
      | user      | What were the Q3 risks?                 |
      | assistant | Which quarter do you mean?              |
      | user      | Q3 2024, für Zürich.                    |
    Then the language model received the whole conversation, in order
    And the language model was asked with temperature 0.2 and at most 256 tokens

    Examples:
      | format  |
      | json    |
      | msgpack |
