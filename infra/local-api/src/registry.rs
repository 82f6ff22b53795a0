//! Every function's endpoint, by the name its `CodeUri` directory has in `template.yaml`.

use chat_core::Endpoint;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        create_session::ENDPOINT,
        send_message::ENDPOINT,
        poll_messages::ENDPOINT,
        submit_rating::ENDPOINT,
        leave_session::ENDPOINT,
        health::ENDPOINT,
        admin_login::ENDPOINT,
        admin_active_sessions::ENDPOINT,
        admin_session_messages::ENDPOINT,
        admin_send_message::ENDPOINT,
        admin_end_session::ENDPOINT,
        admin_activity::ENDPOINT,
        admin_analytics_summary::ENDPOINT,
        admin_dashboard::ENDPOINT,
        admin_claim_session::ENDPOINT,
        admin_transfer_session::ENDPOINT,
        admin_release_session::ENDPOINT,
        admin_agents::ENDPOINT,
        client_typing::ENDPOINT,
        admin_typing::ENDPOINT,
        admin_canned_responses::ENDPOINT,
        admin_create_canned_response::ENDPOINT,
        admin_update_canned_response::ENDPOINT,
        admin_delete_canned_response::ENDPOINT,
        realtime_ticket::ENDPOINT,
        admin_realtime_ticket::ENDPOINT,
        push_connect::ENDPOINT,
        push_disconnect::ENDPOINT,
        push_message::ENDPOINT,
        push_fanout::ENDPOINT,
    ]
}
