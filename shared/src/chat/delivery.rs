//! Which support messages a client poll returns, whatever the app does with its cursor.
//!
//! The shipped app moves its poll cursor to the id of its own sent message (seed 3.2), and user
//! and support messages share one sequence: a reply committed between the app's last poll and
//! its send sorts before the cursor, and a plain "after the cursor" read never returns it.
//!
//! So the server keeps, on the session item, how far polls have delivered (a
//! [`DeliveryMarker`]) and a poll returns the support messages after the marker, not after the
//! cursor. The cursor still matters in one case: a poll with the same cursor as the poll that
//! moved the marker last is that poll again, its answer lost in transit, and gets the same
//! messages again. The first Query reads from the cursor (the marker is on the session item it
//! returns); only when undelivered support messages sort before the cursor, which the counts on
//! the session item tell, is a second Query needed.

use crate::store::items::{DeliveryMarker, SessionItem};

/// What one poll does, decided from the cursor and the session item alone. Without a cursor a
/// poll returns the whole support history, as it always did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPlan {
    /// The cursor (0 without one).
    pub cursor: u64,
    /// Support messages after this one are returned.
    pub start: u64,
    /// Read the support messages `start+1..=cursor` too: some sort before the cursor.
    pub catch_up: bool,
}

/// `after_cursor`: support messages the first Query found after the cursor; `complete`: that
/// Query was not cut short, so the count is exact.
pub fn plan_poll(
    cursor: Option<u64>,
    session: &SessionItem,
    after_cursor: usize,
    complete: bool,
) -> PollPlan {
    let marker = session.delivery();
    let start = match cursor {
        // No cursor asks for the whole support history (an app that lost its state).
        None => 0,
        // The same cursor as the poll that moved the marker: that poll again.
        Some(cursor) if marker.poll_cursor == Some(cursor) => marker.poll_start,
        Some(_) => marker.seq,
    };
    let cursor = cursor.unwrap_or(0);
    let catch_up = start < cursor
        && if start == marker.seq && complete {
            let undelivered = session.support_count.saturating_sub(marker.count);
            undelivered > after_cursor as u64
        } else {
            // A repeated poll, or a count we cannot trust: read the range to be sure.
            true
        };
    PollPlan {
        cursor,
        start,
        catch_up,
    }
}

/// The marker after a poll returned `returned` (support message numbers, ascending, all after
/// `plan.start`); `None` when it does not move.
pub fn reached(plan: &PollPlan, session: &SessionItem, returned: &[u64]) -> Option<DeliveryMarker> {
    let marker = session.delivery();
    let last = *returned.last()?;
    (last > marker.seq).then(|| DeliveryMarker {
        seq: last,
        count: marker.count + returned.iter().filter(|&&seq| seq > marker.seq).count() as u64,
        poll_cursor: Some(plan.cursor),
        poll_start: plan.start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SessionStatus, UserInfo};
    use crate::store::items::Entity;

    /// A session with `support` support messages, `delivered` of them (up to `seq`) returned.
    fn session(support: u64, marker: DeliveryMarker) -> SessionItem {
        SessionItem {
            pk: "SESSION#s".into(),
            sk: "SESSION".into(),
            gsi1pk: None,
            gsi1sk: None,
            entity: Entity::Session,
            session_id: "s".into(),
            user_info: UserInfo::default(),
            status: SessionStatus::Active,
            start_time: "2026-01-01T00:00:00.000Z".into(),
            token_hash: String::new(),
            last_seq: 0,
            support_count: support,
            delivered_support_seq: marker.seq,
            delivered_support_count: marker.count,
            delivery_cursor: marker.poll_cursor,
            delivery_from: marker.poll_start,
            last_message: None,
            waiting_since: None,
            end_time: None,
            ended_by: None,
            rating: None,
            feedback: None,
            rated_at: None,
            expires_at: None,
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

    #[test]
    fn a_cursor_on_the_apps_own_message_past_an_unreturned_reply_reads_back_to_it() {
        // user 1, support 2 (never polled), user 3: the app polls after 3 and finds nothing
        // after it, but one support message is undelivered.
        let s = session(1, DeliveryMarker::default());
        let plan = plan_poll(Some(3), &s, 0, true);
        assert_eq!(
            plan,
            PollPlan {
                cursor: 3,
                start: 0,
                catch_up: true
            }
        );
        let next = reached(&plan, &s, &[2]).unwrap();
        assert_eq!(next, marker(2, 1, Some(3), 0));
    }

    #[test]
    fn the_common_poll_needs_no_second_read() {
        // Nothing undelivered: the customer writes, nobody answered yet.
        assert!(!plan_poll(Some(5), &session(0, DeliveryMarker::default()), 0, true).catch_up);
        // Support 2 was returned; the app then sent 3 and polls after 3.
        let s = session(1, marker(2, 1, Some(1), 0));
        assert!(!plan_poll(Some(3), &s, 0, true).catch_up);
        // A new reply 4 after the cursor 3: the first Query found it, nothing sorts before.
        let s = session(2, marker(2, 1, Some(1), 0));
        let plan = plan_poll(Some(3), &s, 1, true);
        assert_eq!((plan.start, plan.catch_up), (2, false));
        // The cursor is the last reply returned: the ordinary poll.
        assert!(!plan_poll(Some(2), &s, 1, true).catch_up);
    }

    #[test]
    fn only_what_sorts_before_the_cursor_is_caught_up() {
        // Replies 4 and 6 undelivered (2 was delivered), cursor 5: 6 came with the first Query.
        let s = session(3, marker(2, 1, Some(1), 0));
        assert!(plan_poll(Some(5), &s, 1, true).catch_up);
        // A first Query cut short cannot be counted on.
        assert!(plan_poll(Some(5), &session(1, marker(2, 1, None, 0)), 0, false).catch_up);
    }

    #[test]
    fn a_stale_cursor_does_not_repeat_what_was_delivered() {
        // Replies up to 6 delivered by a poll with cursor 5; the app now polls with 4 (a send's
        // answer arrived after that poll's answer): only what is after 6.
        let s = session(2, marker(6, 2, Some(5), 3));
        let plan = plan_poll(Some(4), &s, 1, true);
        assert_eq!((plan.start, plan.catch_up), (6, false));
        // Without a cursor the app asks for the whole history, and gets it.
        assert_eq!(plan_poll(None, &s, 2, true).start, 0);
    }

    #[test]
    fn the_same_poll_again_after_a_lost_answer_gets_the_same_messages() {
        // The poll with cursor 5 started at 3 and returned 4 and 6; its answer was lost.
        let s = session(2, marker(6, 2, Some(5), 3));
        let plan = plan_poll(Some(5), &s, 1, true);
        assert_eq!(
            plan,
            PollPlan {
                cursor: 5,
                start: 3,
                catch_up: true
            }
        );
        // Returning them again does not move the marker.
        assert_eq!(reached(&plan, &s, &[4, 6]), None);
        // A reply 8 that came meanwhile moves it by one.
        assert_eq!(
            reached(&plan, &s, &[4, 6, 8]),
            Some(marker(8, 3, Some(5), 3))
        );
    }
}
