@agents @scripted
Feature: What an agent is defined with changes how it answers
  An agent's instructions reach the model with every message, its tools decide whether it searches
  the knowledge base (an agent defined with no tools answers from the model alone), and a task given
  to it comes back answered, with its type, its priority and the model's token usage.

  Background:
    Given the knowledge base of the tenant holds these documents:
      | title         | text                                                                                      |
      | Refund policy | Annual plans can be refunded within 30 days of purchase. Monthly plans are not refundable. |

  Scenario Outline: An agent with <tools> <searches> the knowledge base
    Given the tenant has an agent "clerk" defined with <tools>
    When the user asks the agent "Can I get a refund on my annual plan?" in session "chat-1"
    Then the agent <searches> the knowledge base for "Can I get a refund on my annual plan?"
    And the agent's reply says it used the tools <used>

    Examples:
      | tools                          | searches        | used                      |
      | the knowledge base search tool | searches        | ["knowledge_base_search"] |
      | no tools                       | does not search | []                        |

  Scenario: The agent's instructions reach the model ahead of the user's message
    Given the tenant has an agent "pirate" instructed "Always answer like a pirate and call the user matey."
    And the language model answers "Arr, thirty days for a refund, matey." only when the prompt mentions "like a pirate"
    When the user asks the agent "Can I get a refund on my annual plan?" in session "chat-1"
    Then the agent replies "Arr, thirty days for a refund, matey."
    And the model's instructions begin with "Always answer like a pirate and call the user matey."
    And the agent's reply reports the token usage the language model reported

  Scenario Outline: A task given with priority <priority> is answered and says its type and priority
    Given the tenant has an agent "clerk" defined with the knowledge base search tool
    And the language model answers "Annual plans: within 30 days." only when the prompt mentions "refunded within 30 days"
    When the tenant gives the agent "clerk" the task to answer "Can annual plans be refunded?" with priority <priority>
    Then the task is completed with the answer "Annual plans: within 30 days.", citing "Refund policy"
    And the task reports the type "answer" and the priority <priority>
    And the task reports the token usage the language model reported

    Examples:
      | priority |
      | 0        |
      | 7        |
      | 10       |
