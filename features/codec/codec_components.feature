@codec
Feature: Components exchange their messages through the codec intact
  Agents talk to each other, components ask the gateway for completions, and the API hands
  documents and questions to the RAG workers. Each of those messages is encoded by the
  sender and decoded by the receiver, and the receiver must see exactly what was sent.

  Scenario Outline: An agent's message reaches the other agent intact (<format>)
    Given an agent message from "planner" to "researcher" says "Find the three largest risks in the Q3 report — für Zürich"
    And the agent message belongs to conversation "conv-2024-q3"
    When the codec carries the message as <format>
    Then the decoded agent message from "planner" to "researcher" says "Find the three largest risks in the Q3 report — für Zürich"
    And the decoded agent message still belongs to conversation "conv-2024-q3"

    Examples:
      | format  |
      | json    |
      | msgpack |

  Scenario Outline: A gateway request and its response survive the trip (<format>)
    Given a gateway request message for tenant "acme" asks model "gpt-4o-mini" at temperature 0.2 for at most 256 tokens with the conversation:
      | role   | content                                 |
      | system | You answer from the tenant's documents. |
      | user   | What were the Q3 risks?                 |
    When the codec carries the message as <format>
    Then the decoded gateway request for tenant "acme" asks model "gpt-4o-mini" at temperature 0.2 for at most 256 tokens with the same conversation
    When a gateway response message answers "Currency exposure, supplier delays and churn." with 31 prompt and 9 completion tokens costing 0.000042
    And the codec carries the message as <format>
    Then the decoded gateway response to the same request answers "Currency exposure, supplier delays and churn." with 40 tokens in total costing 0.000042

    Examples:
      | format  |
      | json    |
      | msgpack |

  Scenario Outline: A RAG document with embedded chunks is ingested intact (<format>)
    Given a RAG document message "Q3 report" for tenant "acme" with 10 KB of text in 10 chunks embedded with 1536 numbers each
    When the codec carries the message as <format>
    Then the decoded RAG document "Q3 report" has its text, its 10 chunks and every embedding number unchanged

    Examples:
      | format  |
      | json    |
      | msgpack |

  Scenario Outline: A RAG question and its answer survive the trip (<format>)
    Given a RAG query message from tenant "acme" asks "What were the Q3 risks?" for the top 3 passages above similarity 0.75
    When the codec carries the message as <format>
    Then the decoded RAG query from tenant "acme" asks "What were the Q3 risks?" for the top 3 passages above similarity 0.75
    When a RAG result message answers "Currency exposure and supplier delays." citing the sources "Q3 report, Risk register" using 120 tokens costing 0.0003
    And the codec carries the message as <format>
    Then the decoded RAG result to the same query answers "Currency exposure and supplier delays." citing the sources "Q3 report, Risk register"

    Examples:
      | format  |
      | json    |
      | msgpack |

  Scenario: A RAG question without parameters gets the documented defaults
    Given a RAG query message from tenant "acme" asks "Who signed the contract?" with no parameters
    When the codec carries the message as json
    Then the decoded RAG query from tenant "acme" asks "Who signed the contract?" for the top 5 passages above similarity 0.7
