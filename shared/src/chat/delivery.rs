//! Which support messages a client poll returns, whatever the app does with its cursor.
//!
//! The shipped app moves its poll cursor to the id of its own sent message (docs/contract.md
//! §C3), and user and support messages share one sequence: a reply committed between the app's
//! last poll and its send sorts before the cursor, and a plain "after the cursor" read never
//! returns it.
//!
//! So the server keeps, on the session item, how far polls have delivered (a
//! [`DeliveryMarker`]: every support message up to `seq` has been returned), and a poll returns
//! every support message no poll has returned yet (after the marker) and, when the cursor names
//! a support message, every support message after the cursor too: the REST cursor stays the
//! truth for a client that catches up after a reconnect, and for a customer's second device
//! (docs/contract.md §C4). A cursor that names one of the customer's own messages is the shipped
//! app's habit: it gets what no poll has returned, never a reply again (the app keeps no ids to
//! deduplicate with). Two more cases: no cursor asks for the whole history, and the same cursor
//! as the poll that moved the marker last is that poll again (its answer was lost in transit):
//! it gets the same messages.
//!
//! The session item (read first, alone) also counts support messages and names the newest one a
//! poll returned, so a poll with nothing to return, the common case, reads no message at all:
//! one request, and a wrong token never costs a message read.

use crate::store::items::{DeliveryMarker, SessionItem};

/// What one poll reads, decided from the cursor and the session item alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPlan {
    pub cursor: Option<u64>,
    /// Support messages after this one are returned.
    pub start: u64,
    /// Whether any can be there: read `start+1..=lastSeq` (else nothing to read).
    pub read: bool,
    /// The cursor stands before the marker with delivered replies after it: the read starts at
    /// the cursor itself, and whether it names a support message decides what is returned
    /// ([`from_cursor`]).
    pub check_cursor: bool,
    /// The cursor is ahead of the marker (a client whose replies came by push, catching up):
    /// the read starts at the cursor, and the marker (the shipped app's record) stays where
    /// it is, as a read by another device must not move it.
    pub ahead: bool,
}

pub fn plan_poll(cursor: Option<u64>, session: &SessionItem) -> PollPlan {
    let marker = session.delivery();
    let undelivered = session.support_count > marker.count;
    let plan = |start: u64, read: bool, check_cursor: bool| PollPlan {
        cursor,
        start,
        read: read && start < session.last_seq,
        check_cursor,
        ahead: false,
    };
    match cursor {
        // No cursor asks for the whole support history (an app that lost its state).
        None => plan(0, true, false),
        // The same cursor as the poll that moved the marker: that poll again.
        Some(cursor) if marker.poll_cursor == Some(cursor) => plan(marker.poll_start, true, false),
        // Behind the marker, with replies delivered after it: those are the cursor's to get
        // again if it names a reply (a second device, a catch-up), not if it names the
        // customer's own message (the shipped app). The customer's newest message is known
        // without a read: the shipped app's cursor after a send costs nothing more.
        Some(cursor)
            if cursor < marker.seq
                && session.last_user_seq != Some(cursor)
                && delivered_after(session, cursor) =>
        {
            plan(cursor.saturating_sub(1), true, true)
        }
        // Ahead of the marker: a client whose replies came by push, catching up. The read
        // starts at the cursor; if the cursor is a reply, what follows it is returned and the
        // marker stays; if it is one of the customer's own messages after all, the poll reads
        // from the marker as for the shipped app ([`from_cursor`]).
        // (Only while some reply is undelivered: else every reply is at or before the
        // marker, and a cursor after it is one of the customer's own messages.)
        Some(cursor)
            if undelivered && cursor > marker.seq && session.last_user_seq != Some(cursor) =>
        {
            PollPlan {
                ahead: true,
                ..plan(cursor - 1, true, true)
            }
        }
        Some(_) => plan(marker.seq, undelivered, false),
    }
}

/// Whether a poll has returned a support message numbered after `cursor` (unknown for sessions
/// older than the field: assumed).
fn delivered_after(session: &SessionItem, cursor: u64) -> bool {
    session.delivered_support_count > 0
        && session
            .delivered_support_id
            .is_none_or(|newest| newest > cursor)
}

/// What a poll planned with `check_cursor` keeps of the support messages it read (numbers,
/// ascending, from the cursor on), and where it counts as having started: after the cursor
/// when the cursor is among them (a reply the client saw), else after the marker (the shipped
/// app's own message: nothing returned again).
pub fn from_cursor(plan: &PollPlan, session: &SessionItem, read: &[u64]) -> (u64, usize) {
    let cursor = plan.cursor.unwrap_or(0);
    let start = if read.first() == Some(&cursor) {
        cursor
    } else {
        session.delivery().seq
    };
    (start, read.iter().take_while(|&&seq| seq <= start).count())
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
                start: 2,
                read: true,
                check_cursor: true,
                ahead: true,
            }
        );
        // The read from the cursor finds no reply 3: the poll reads from the marker instead.
        assert_eq!(from_cursor(&plan, &s, &[]), (0, 0), "3 is not a reply");
        let plan = PollPlan { start: 0, ..plan };
        assert_eq!(reached(&plan, &s, &[2], 3), Some(marker(3, 1, Some(3), 0)));
    }

    #[test]
    fn a_cursor_on_a_reply_ahead_of_the_marker_gets_only_what_follows_it() {
        // Replies 2, 4, 6 came by push; nothing was ever polled. Catching up from 4: the
        // read starts at 4 and returns 6; the marker is left to the shipped app's polls.
        let s = at(session(3, DeliveryMarker::default()), 6);
        let plan = plan_poll(Some(4), &s);
        assert!(plan.read && plan.check_cursor && plan.ahead && plan.start == 3);
        assert_eq!(from_cursor(&plan, &s, &[4, 6]), (4, 1), "4 is the client's");
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
    fn a_stale_cursor_on_the_customers_own_message_does_not_repeat_what_was_delivered() {
        // Replies 5 and 6 were delivered by a poll with cursor 3; the app now polls with 4, its
        // own message (a send's answer arrived after that poll's answer). The read starts at
        // the cursor to see what it names.
        let s = at(session(2, marker(6, 2, Some(3), 3)), 7);
        let plan = plan_poll(Some(4), &s);
        assert_eq!((plan.start, plan.read, plan.check_cursor), (3, true, true));
        // 4 is not among the support messages read: only what is after the marker (6) is
        // returned, and nothing is.
        assert_eq!(from_cursor(&plan, &s, &[5, 6]), (6, 2));
        // Without a cursor the app asks for the whole history, and gets it.
        let plan = plan_poll(None, &s);
        assert_eq!((plan.start, plan.read), (0, true));
    }

    #[test]
    fn a_cursor_on_a_reply_behind_the_marker_gets_every_reply_after_it() {
        // Replies 4 and 6 were delivered to the customer's other device; this one saw 4.
        let s = at(session(2, marker(6, 2, Some(3), 3)), 7);
        let plan = plan_poll(Some(4), &s);
        assert_eq!(from_cursor(&plan, &s, &[4, 6]), (4, 1));
        // Returning 6 again does not move the marker.
        let plan = PollPlan { start: 4, ..plan };
        assert_eq!(reached(&plan, &s, &[6], 7), Some(marker(7, 2, Some(4), 4)));
    }

    #[test]
    fn the_customers_newest_message_as_the_cursor_reads_nothing() {
        // Reply 4 was returned to a poll with cursor 2; the app's late send answer then moved
        // its cursor back to 3, the customer's newest message: nothing to read.
        let s = SessionItem {
            delivered_support_id: Some(4),
            last_user_seq: Some(3),
            ..at(session(2, marker(4, 2, Some(2), 2)), 4)
        };
        assert!(!plan_poll(Some(3), &s).read);
        // An older message of the customer's (not known without a read) is looked at.
        assert!(plan_poll(Some(1), &s).check_cursor);
    }

    #[test]
    fn a_cursor_on_the_newest_delivered_reply_reads_nothing() {
        // The marker passed user messages after reply 4, the newest any poll returned.
        let s = SessionItem {
            delivered_support_id: Some(4),
            ..at(session(1, marker(6, 1, Some(3), 3)), 6)
        };
        assert!(!plan_poll(Some(4), &s).read);
        // A newer reply 7 is read from the marker, not from the cursor.
        let s = SessionItem {
            support_count: 2,
            ..at(s, 7)
        };
        let plan = plan_poll(Some(4), &s);
        assert_eq!((plan.start, plan.read, plan.check_cursor), (6, true, false));
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
