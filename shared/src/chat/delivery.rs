//! Which support messages a client poll returns, whatever the app does with its cursor.
//!
//! The shipped app moves its poll cursor to the id of its own sent message (docs/contract.md
//! §C3), and user and support messages share one sequence: a reply committed between the app's
//! last poll and its send sorts before the cursor, and a plain "after the cursor" read never
//! returns it.
//!
//! So the server keeps, on the session item, how far polls have delivered (a
//! [`DeliveryMarker`]: every support message up to `seq` has been returned) and a poll returns
//! the support messages after the marker, not after the cursor. The cursor still matters in two
//! cases: none at all asks for the whole history, and the same cursor as the poll that moved the
//! marker last is that poll again (its answer was lost in transit): it gets the same messages.
//!
//! The session item (read first, alone) also counts support messages, so a poll with nothing
//! undelivered, the common case, reads no message at all: one request, and a wrong token never
//! costs a message read.

use crate::store::items::{DeliveryMarker, SessionItem};

/// What one poll reads, decided from the cursor and the session item alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPlan {
    pub cursor: Option<u64>,
    /// Support messages after this one are returned.
    pub start: u64,
    /// Whether any can be there: read `start+1..=lastSeq` (else nothing to read).
    pub read: bool,
}

pub fn plan_poll(cursor: Option<u64>, session: &SessionItem) -> PollPlan {
    let marker = session.delivery();
    let start = match cursor {
        // No cursor asks for the whole support history (an app that lost its state).
        None => 0,
        // The same cursor as the poll that moved the marker: that poll again.
        Some(cursor) if marker.poll_cursor == Some(cursor) => marker.poll_start,
        Some(_) => marker.seq,
    };
    let read = start < session.last_seq
        && if start == marker.seq {
            session.support_count > marker.count
        } else {
            // From before the marker: delivered replies are there to return again.
            true
        };
    PollPlan {
        cursor,
        start,
        read,
    }
}

/// The marker after a poll read its range up to `scanned_to` and returned `returned` (support
/// message numbers, ascending, all after `plan.start`); `None` when it does not move. Every
/// support message up to `scanned_to` was returned, so the marker may pass user messages too:
/// a poll always makes progress, however many user messages come first.
pub fn reached(
    plan: &PollPlan,
    session: &SessionItem,
    returned: &[u64],
    scanned_to: u64,
) -> Option<DeliveryMarker> {
    let marker = session.delivery();
    let newly = returned.iter().filter(|&&seq| seq > marker.seq).count() as u64;
    let (poll_cursor, poll_start) = if returned.is_empty() {
        (marker.poll_cursor, marker.poll_start)
    } else {
        (plan.cursor, plan.start)
    };
    (scanned_to > marker.seq).then_some(DeliveryMarker {
        seq: scanned_to,
        count: marker.count + newly,
        poll_cursor,
        poll_start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ClientToken, SessionId};
    use crate::model::UserInfo;

    /// A session with `support` support messages and this delivery marker.
    fn session(support: u64, marker: DeliveryMarker) -> SessionItem {
        let id = SessionId::parse("chat_test").unwrap();
        let hash = ClientToken::generate().hash();
        let open = SessionItem::open(
            &id,
            UserInfo::default(),
            &hash,
            chrono::DateTime::UNIX_EPOCH,
        );
        SessionItem {
            support_count: support,
            delivered_support_seq: marker.seq,
            delivered_support_count: marker.count,
            delivery_cursor: marker.poll_cursor,
            delivery_from: marker.poll_start,
            ..open
        }
    }

    fn marker(seq: u64, count: u64, poll_cursor: Option<u64>, poll_start: u64) -> DeliveryMarker {
        DeliveryMarker {
            seq,
            count,
            poll_cursor,
            poll_start,
        }
    }

    fn at(s: SessionItem, last_seq: u64) -> SessionItem {
        SessionItem { last_seq, ..s }
    }

    #[test]
    fn a_cursor_on_the_apps_own_message_past_an_unreturned_reply_reads_back_to_it() {
        // user 1, support 2 (never polled), user 3: the app polls after 3.
        let s = at(session(1, DeliveryMarker::default()), 3);
        let plan = plan_poll(Some(3), &s);
        assert_eq!(
            plan,
            PollPlan {
                cursor: Some(3),
                start: 0,
                read: true
            }
        );
        assert_eq!(reached(&plan, &s, &[2], 3), Some(marker(3, 1, Some(3), 0)));
    }

    #[test]
    fn the_common_poll_reads_no_message() {
        // Nothing undelivered: the customer writes, nobody answered yet.
        assert!(!plan_poll(Some(5), &at(session(0, DeliveryMarker::default()), 5)).read);
        // Reply 2 was returned; the app then sent 3 and polls after 3.
        let s = at(session(1, marker(2, 1, Some(1), 0)), 3);
        assert!(!plan_poll(Some(3), &s).read);
        // The cursor is the last reply returned: the ordinary poll.
        assert!(!plan_poll(Some(2), &s).read);
        // A new reply 4: read from the marker.
        let s = at(session(2, marker(2, 1, Some(1), 0)), 4);
        assert_eq!(plan_poll(Some(3), &s).start, 2);
        assert!(plan_poll(Some(3), &s).read);
    }

    #[test]
    fn a_stale_cursor_does_not_repeat_what_was_delivered() {
        // Replies up to 6 delivered by a poll with cursor 5; the app now polls with 4 (a send's
        // answer arrived after that poll's answer): only what is after 6, and nothing is.
        let s = at(session(2, marker(6, 2, Some(5), 3)), 7);
        let plan = plan_poll(Some(4), &s);
        assert_eq!((plan.start, plan.read), (6, false));
        // Without a cursor the app asks for the whole history, and gets it.
        let plan = plan_poll(None, &s);
        assert_eq!((plan.start, plan.read), (0, true));
    }

    #[test]
    fn the_same_poll_again_after_a_lost_answer_gets_the_same_messages() {
        // The poll with cursor 5 started at 3 and returned 4 and 6; its answer was lost.
        let s = at(session(2, marker(6, 2, Some(5), 3)), 6);
        let plan = plan_poll(Some(5), &s);
        assert_eq!((plan.start, plan.read), (3, true));
        // Returning them again does not move the marker.
        assert_eq!(reached(&plan, &s, &[4, 6], 6), None);
        // A reply 8 that came meanwhile moves it by one.
        assert_eq!(
            reached(&plan, &s, &[4, 6, 8], 8),
            Some(marker(8, 3, Some(5), 3))
        );
    }

    #[test]
    fn a_poll_past_many_user_messages_still_makes_progress() {
        // 200 user messages, then a reply: the first read stops after 50 with nothing to return
        // but moves the marker, keeping the last delivering poll's cursor.
        let s = at(session(1, marker(0, 0, Some(9), 0)), 201);
        let plan = plan_poll(Some(200), &s);
        assert_eq!(reached(&plan, &s, &[], 50), Some(marker(50, 0, Some(9), 0)));
    }
}
