@e2e @services
Feature: Questions answered end to end, through the platform's APIs
  A tenant adds documents through the RAG API, the platform ingests them in the background over
  JetStream, and people ask through the unified query API, which sends a question to the
  knowledge base and anything else to the tenant's assistant agent. Every hop is a real service
  in its own process; the answer comes back with its sources.

  @scripted
  Scenario: A document added through the API is ingested in the background and answers a question
    Given the language model answers "Annual plans can be refunded within 30 days." when asked about "refund"
    When the tenant adds the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." through the RAG API, for ingestion in the background
    Then the RAG API accepts the document for ingestion with a message id
    And the RAG API lists "Refund policy" for the tenant within 10 seconds
    When a user of the tenant asks the query API "How long do I have to get a refund on an annual plan?"
    Then the query API answers "Annual plans can be refunded within 30 days." from the knowledge base
    And the query API's answer cites "Refund policy"

  Scenario Outline: The unified query sends "<query>" to <used> in <mode> mode
    Given the tenant has added the document "Office handbook" with the text "The office opens at 8 am and closes at 6 pm." through the RAG API
    When a user of the tenant asks the query API "<query>" in <mode> mode
    Then the query API answered using <used>

    Examples:
      | query                                | mode  | used  |
      | When does the office open?           | auto  | rag   |
      | Explain the opening hours            | auto  | rag   |
      | What's the opening time              | auto  | rag   |
      | The office opens at what time?       | auto  | rag   |
      | Book the large meeting room for me.  | auto  | agent |
      | Howdy, book the large meeting room   | auto  | agent |
      | Book the large meeting room for me.  | rag   | rag   |
      | When does the office open?           | agent | agent |
      | When does the office open?           | both  | both  |

  @scripted
  Scenario: An agent answers from the knowledge base and remembers the conversation, over HTTP
    Given the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." through the RAG API
    And the tenant has an agent "helpdesk" with the knowledge base search tool, through the agent API
    And the language model answers "Your name is Ada." only when the prompt mentions "my name is Ada"
    When the user tells the agent "helpdesk" "Hello, my name is Ada." in the conversation "morning" through the agent API
    And the user asks the agent "helpdesk" "What is my name?" in the conversation "morning" through the agent API
    Then the agent API replies "Your name is Ada."
    When the user asks the agent "helpdesk" "Can I get a refund on my annual plan?" in the conversation "morning" through the agent API
    Then the agent API's reply cites "Refund policy" and says it used "knowledge_base_search"

  @scripted
  Scenario: An agent executes an answering task over HTTP and reports the task with its result from the knowledge base
    Given the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." through the RAG API
    And the tenant has an agent "helpdesk" with the knowledge base search tool, through the agent API
    And the language model answers "Refunds are possible for 30 days after purchase." when asked about "refund"
    When the tenant gives the agent "helpdesk" the task of answering "Can I get a refund on my annual plan?" at priority 7, through the agent API
    Then the agent API reports the answering task completed at priority 7, under a task id of its own
    And the task's result answers "Refunds are possible for 30 days after purchase.", citing "Refund policy" and saying it used "knowledge_base_search"
    And the prompt sent to the language model contains "Annual plans can be refunded within 30 days of purchase."

  @scripted
  Scenario: A model failure deep in the chain surfaces at the query API, naming every hop
    Given the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." through the RAG API
    And the primary model fails with HTTP 500
    When a user of the tenant asks the query API "Within how many days can annual plans be refunded?" in rag mode, with the correlation id "journey-0042"
    Then the query API answers 502 with the error code "DEPENDENCY_ERROR" naming "rag"
    And the failure passes through "rag", then "gateway", then "model provider", each hop with the correlation id "journey-0042"

  @scripted
  Scenario: In both mode the knowledge base and the assistant agent both answer, and an answer or a source they share comes once
    Given the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." through the RAG API
    And the language model answers "Within 30 days of purchase." when asked about "refunded"
    When a user of the tenant asks the query API "Within how many days can annual plans be refunded?" in both mode
    Then the query API answered using both
    And the query API answers "Within 30 days of purchase." from the knowledge base
    And the query API's answer cites only "Refund policy"

  Scenario: The query API hands a question to the agent the caller names, and to no other
    Given the tenant has an agent "front-desk" with no tools, through the agent API
    When a user of the tenant asks the query API "Book the large meeting room for me." for the agent "front-desk"
    Then the query API's answer from the agent used no tool
    When a user of the tenant asks the query API "Book the large meeting room for me." for the agent "night-desk"
    Then the query API answers 404 with the error code "NOT_FOUND", saying there is no agent "night-desk"
    And the agent API lists only the agent "front-desk" for the tenant

  @service-control @chaos
  Scenario: A stopped RAG service is a 503 at the query API, naming it
    Given the RAG service has stopped
    When a user of the tenant asks the query API "When does the office open?" in rag mode
    Then the query API answers 503 with the error code "DEPENDENCY_UNAVAILABLE" naming "rag"

  @service-control @chaos @scripted
  Scenario: With the agent service stopped, both mode still answers from the knowledge base and names what failed
    Given the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." through the RAG API
    And the language model answers "Within 30 days of purchase." when asked about "refunded"
    And the agent service has stopped
    When a user of the tenant asks the query API "Within how many days can annual plans be refunded?" in both mode
    Then the query API answers "Within 30 days of purchase." from the knowledge base
    And the query API says the "agent" part failed with "DEPENDENCY_UNAVAILABLE"

  @service-control @slow @scripted
  Scenario: A slow dependency is a 504 at the query API, within the query API's own timeout
    Given the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase." through the RAG API
    And the query API gives up on a dependency after 1 second
    And the primary model takes 1.8 seconds to answer
    When a user of the tenant asks the query API "Within how many days can annual plans be refunded?" in rag mode
    Then the query API answers 504 with the error code "DEPENDENCY_TIMEOUT" naming "rag"
    And the caller had that answer at the query API's timeout

  @security @scripted
  Scenario: Another tenant sees nothing of a tenant's documents, agents or conversations through the APIs
    Given the tenant "acme" has added the document "Acme price list" with the text "The rocket costs 500 dollars at Acme, delivery included." through the RAG API
    And the tenant "acme" has an agent "concierge" with the knowledge base search tool, through the agent API
    Then the agent API describes the agent "concierge" to the tenant "acme" as "Concierge", with the tool "knowledge_base_search"
    And the RAG API lists nothing for the tenant "globex"
    And the agent API does not know the agent "concierge" for the tenant "globex"
    When a user of the tenant "globex" asks the query API "How much does the rocket cost?"
    Then the query API answers that the knowledge base does not cover the question
    And the language model was not asked for an answer

  @scripted
  Scenario Outline: The query API passes the caller's choice of <top_k> passages with <similarity> on to the knowledge base
    Given the tenant has added the document "Refund policy" with the text "Annual plans can be refunded within 30 days of purchase. Monthly plans are not refundable." through the RAG API
    And the tenant has added the document "Office handbook" with the text "The office opens at 8 am and closes at 6 pm. Dogs are welcome in the office on Fridays." through the RAG API
    And the tenant has added the document "Security policy" with the text "Passwords are rotated every 90 days and multi-factor authentication is required for all staff." through the RAG API
    When a user of the tenant asks the query API "What is required within days at the office for plans?" in rag mode, keeping the <top_k> best passages with <similarity>
    Then the query API's answer from the knowledge base rests on <count> passages

    Examples:
      | top_k | similarity                              | count |
      | 1     | a similarity of at least 0              | 1     |
      | 3     | a similarity of at least 0              | 3     |
      | 3     | the platform's own similarity threshold | 1     |

  @scripted
  Scenario Outline: The query API keeps an agent conversation by its id (the <second> conversation)
    Given the language model answers "Your name is Ada." only when the prompt mentions "my name is Ada"
    When a user of the tenant tells the query API "Remember this: my name is Ada." in agent mode, in the conversation "intro"
    And a user of the tenant asks the query API "Tell me what I am called." in agent mode, in the conversation "<second>"
    Then the query API's answer from the agent <is> "Your name is Ada."

    Examples:
      | second | is     |
      | intro  | is     |
      | other  | is not |

  Scenario: A document added with an id, a type and metadata of its own is kept under that id, with that type
    When the tenant adds the document "Leave policy" with the id "hr-0042", of type "text/markdown" and with the metadata {"department": "HR", "revision": 3}, through the RAG API
    Then the RAG API stores it as "hr-0042"
    And the RAG API shows the document "hr-0042" titled "Leave policy", of type "text/markdown"
