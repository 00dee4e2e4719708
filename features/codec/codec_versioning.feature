@codec @library
Feature: Messages from older and newer producers
  A library specification: these scenarios run the contract's codec itself, no platform service.
  Producers and consumers of platform messages are deployed at different times, so a
  consumer meets messages written by older and by newer producers. Every message says which
  version of its shape it carries, as MAJOR.MINOR, and the reader decides from that:

  - Same major, any minor: the message is read. Fields that a newer minor added are
    ignored on read, because the reader works with its own current shape and has no use
    for them; a service that only relays a message forwards the original bytes, so the new
    fields still reach the newer consumers downstream. Fields that a producer left out take
    their defaults.
  - An older major that has a registered upgrade is upgraded on read: the reader sees the
    current shape and can tell that the message was upgraded.
  - Any other major, and any message type the reader does not know, is refused with a
    reason that names the version or the type, and what the reader supports.

  Background:
    Given a message reader at version 1.0 of every message type

  Scenario Outline: A <producer> producer sends <message type> <written> as <format>; the 1.0 reader <outcome>
    Given a producer at version <producer> sends message type <message type> <written>
    When the producer's message reaches the reader as <format>
    Then the reader <outcome>

    Examples: Same version
      | producer | message type  | written              | format  | outcome        |
      | 1.0      | agent_message | in the current shape | json    | reads it as is |
      | 1.0      | agent_message | in the current shape | msgpack | reads it as is |
      | 1.0      | rag_document  | in the current shape | msgpack | reads it as is |

    Examples: Newer minor with a field the reader does not know
      | producer | message type  | written                            | format  | outcome                                        |
      | 1.1      | agent_message | with the new field "priority_hint" | json    | reads it and ignores the field "priority_hint" |
      | 1.1      | agent_message | with the new field "priority_hint" | msgpack | reads it and ignores the field "priority_hint" |
      | 1.4      | rag_query     | with the new field "rerank_model"  | json    | reads it and ignores the field "rerank_model"  |

    Examples: Producer leaves out optional fields
      | producer | message type  | written                                   | format  | outcome                                                                           |
      | 1.0      | agent_message | without the optional field "metadata"     | json    | reads it with "metadata" defaulted to {}                                          |
      | 1.0      | agent_message | without the optional field "message_type" | msgpack | reads it with "message_type" defaulted to "text"                                  |
      | 1.0      | agent_task    | without the optional field "priority"     | json    | reads it with "priority" defaulted to 5                                           |
      | 1.0      | rag_query     | without the optional field "parameters"   | msgpack | reads it with "parameters" defaulted to {"top_k": 5, "similarity_threshold": 0.7} |
      | 1.0      | rag_query     | without the optional field "parameters"   | json    | reads it with "parameters" defaulted to {"top_k": 5, "similarity_threshold": 0.7} |
      | 1.0      | error         | without the optional field "details"      | json    | reads it with "details" defaulted to {}                                           |
      | 1.0      | error         | without the optional field "request_id"   | msgpack | reads it with "request_id" defaulted to null                                      |

    Examples: Older major with a registered upgrade
      | producer | message type  | written          | format  | outcome                                                  |
      | 0.9      | agent_message | in the old shape | json    | upgrades it to version 1.0 with every field carried over |
      | 0.9      | agent_message | in the old shape | msgpack | upgrades it to version 1.0 with every field carried over |

    Examples: Refused
      | producer | message type    | written                     | format  | outcome                                                                                  |
      | 2.0      | agent_message   | in the current shape        | json    | refuses it as unsupported_version, naming version 2.0 and supported versions 0.9 and 1.0 |
      | 2.0      | rag_document    | in the current shape        | msgpack | refuses it as unsupported_version, naming version 2.0 and supported versions 1.0         |
      | 0.9      | agent_task      | in the current shape        | json    | refuses it as unsupported_version, naming version 0.9 and supported versions 1.0         |
      | 1.0      | agent_heartbeat | as a type it never heard of | json    | refuses it as unknown_message_type, naming the type agent_heartbeat and the known types  |

  Scenario: A 0.9 agent message is upgraded field by field, its type and metadata included
    Given a producer at version 0.9 sends message type agent_message with these fields:
      | field | value                          |
      | id    | msg-0042                       |
      | from  | planner                        |
      | to    | researcher                     |
      | text  | Find the Q3 revenue for Zürich |
      | type  | question                       |
      | time  | 2024-05-01T09:30:00Z           |
      | meta  | {"conversation_id": "conv-7"}  |
    When the producer's message reaches the reader as json
    Then the reader sees version 1.0 data upgraded from 0.9 with these fields:
      | field           | value                          |
      | message_id      | msg-0042                       |
      | source_agent_id | planner                        |
      | target_agent_id | researcher                     |
      | content         | Find the Q3 revenue for Zürich |
      | message_type    | question                       |
      | timestamp       | 2024-05-01T09:30:00Z           |
      | metadata        | {"conversation_id": "conv-7"}  |

  Scenario: A relay passes on the fields it does not know
    Given a producer at version 1.1 sends message type agent_message with the new field "priority_hint"
    When the producer's message reaches the reader as msgpack
    And the reader relays the message unchanged to the next consumer
    Then the next consumer still finds the field "priority_hint" in the relayed message
