//! Did every support reply reach its customer exactly once, in order? Compares what each
//! customer's polls received with what the transcript holds after the run (and with what the
//! agents were told was stored).

use serde::Serialize;
use std::collections::HashSet;

/// One chat's evidence.
#[derive(Debug, Clone, Default)]
pub struct ChatDelivery {
    /// Support message ids in the transcript after the run, in order; `None` when it could not
    /// be read (then only `acknowledged` is known to exist).
    pub stored: Option<Vec<String>>,
    /// Ids the agents' sends were answered with (200).
    pub acknowledged: Vec<String>,
    /// Ids the customer's polls returned, in the order they arrived.
    pub received: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCheck {
    /// Support messages known to exist (stored, or acknowledged to an agent).
    pub replies: u64,
    /// Replies a customer received (counting repeats).
    pub received: u64,
    /// Replies that exist and the customer never received.
    pub lost: u64,
    /// Receipts of a reply the customer had already received.
    pub duplicated: u64,
    /// Replies received after one that sorts after them.
    pub out_of_order: u64,
    /// Received ids that are not a support message of that chat.
    pub unknown: u64,
    /// Acknowledged to an agent, missing from the transcript.
    pub acknowledged_not_stored: u64,
    /// Chats whose transcript could not be read after the run (no agent sign-in, or the read
    /// failed): checked against the acknowledged replies only.
    pub unverified_chats: u64,
}

impl DeliveryCheck {
    pub fn is_clean(&self) -> bool {
        self.lost == 0
            && self.duplicated == 0
            && self.out_of_order == 0
            && self.unknown == 0
            && self.acknowledged_not_stored == 0
    }
}

pub fn check(chats: &[ChatDelivery]) -> DeliveryCheck {
    let mut total = DeliveryCheck::default();
    for chat in chats {
        let stored: Option<HashSet<&str>> = chat
            .stored
            .as_ref()
            .map(|ids| ids.iter().map(String::as_str).collect());
        let mut existing: HashSet<&str> = stored.clone().unwrap_or_default();
        for id in &chat.acknowledged {
            if stored
                .as_ref()
                .is_some_and(|stored| !stored.contains(id.as_str()))
            {
                total.acknowledged_not_stored += 1;
            }
            existing.insert(id);
        }
        if stored.is_none() {
            total.unverified_chats += 1;
        }

        let mut seen = HashSet::new();
        let mut newest: Option<&str> = None;
        for id in &chat.received {
            if !seen.insert(id.as_str()) {
                total.duplicated += 1;
                continue;
            }
            if !existing.contains(id.as_str()) {
                total.unknown += 1;
            }
            // Message ids are fixed-width sequence numbers: they compare as they sort.
            if newest.is_some_and(|newest| id.as_str() < newest) {
                total.out_of_order += 1;
            } else {
                newest = Some(id);
            }
        }
        total.replies += existing.len() as u64;
        total.received += chat.received.len() as u64;
        total.lost += existing.iter().filter(|id| !seen.contains(*id)).count() as u64;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_reply_once_in_order_is_clean() {
        let chat = ChatDelivery {
            stored: Some(ids(&["msg_000000000002", "msg_000000000004"])),
            acknowledged: ids(&["msg_000000000002", "msg_000000000004"]),
            received: ids(&["msg_000000000002", "msg_000000000004"]),
        };
        let result = check(&[chat]);
        assert!(result.is_clean(), "{result:?}");
        assert_eq!((result.replies, result.received), (2, 2));
    }

    #[test]
    fn a_reply_never_received_is_lost_and_one_received_twice_is_duplicated() {
        let lost = ChatDelivery {
            stored: Some(ids(&["msg_000000000002", "msg_000000000004"])),
            acknowledged: vec![],
            received: ids(&["msg_000000000002"]),
        };
        let duplicated = ChatDelivery {
            stored: Some(ids(&["msg_000000000002"])),
            acknowledged: vec![],
            received: ids(&["msg_000000000002", "msg_000000000002"]),
        };
        let result = check(&[lost, duplicated]);
        assert_eq!(result.lost, 1);
        assert_eq!(result.duplicated, 1);
        assert_eq!(result.received, 3);
        assert!(!result.is_clean());
    }

    #[test]
    fn out_of_order_foreign_and_unstored_replies_are_each_reported() {
        let chat = ChatDelivery {
            stored: Some(ids(&["msg_000000000002", "msg_000000000004"])),
            acknowledged: ids(&["msg_000000000006"]),
            received: ids(&[
                "msg_000000000004",
                "msg_000000000002",
                "msg_000000000006",
                "msg_000000000009",
            ]),
        };
        let result = check(&[chat]);
        assert_eq!(result.out_of_order, 1);
        assert_eq!(result.unknown, 1);
        assert_eq!(result.acknowledged_not_stored, 1);
        assert_eq!(result.lost, 0);
        assert_eq!(result.replies, 3);
    }

    #[test]
    fn without_a_transcript_the_acknowledged_replies_are_the_reference() {
        let chat = ChatDelivery {
            stored: None,
            acknowledged: ids(&["msg_000000000002", "msg_000000000003"]),
            received: ids(&["msg_000000000002"]),
        };
        let result = check(&[chat]);
        assert_eq!(result.lost, 1);
        assert_eq!(result.unverified_chats, 1);
    }
}
