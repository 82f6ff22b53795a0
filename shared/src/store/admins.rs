//! Support agents' accounts: one item each, and a second that keeps the email unique.

use super::items::*;
use super::keys::*;
use super::page::{Listing, Page};
use super::{n, s, written, ChatStore, StoreError};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

impl ChatStore {
    /// Creates an admin unless the id or the email is taken (then returns false).
    pub async fn create_admin(&self, admin: &AdminItem) -> Result<bool, StoreError> {
        let email = AdminEmailItem {
            pk: admin_email_pk(&admin.email),
            sk: ADMIN_EMAIL_SK.to_owned(),
            entity: Entity::AdminEmail,
            admin_id: admin.admin_id.clone(),
        };
        let writes = vec![
            self.put_if_new(serde_dynamo::to_item(admin)?)?,
            self.put_if_new(serde_dynamo::to_item(&email)?)?,
        ];
        self.transact_if(writes).await
    }

    pub async fn admin(&self, admin_id: &str) -> Result<Option<AdminItem>, StoreError> {
        self.get(admin_pk(admin_id), ADMIN_SK).await
    }

    pub async fn admin_by_email(&self, email: &str) -> Result<Option<AdminItem>, StoreError> {
        let Some(link) = self
            .get::<AdminEmailItem>(admin_email_pk(email), ADMIN_EMAIL_SK)
            .await?
        else {
            return Ok(None);
        };
        self.admin(&link.admin_id).await
    }

    pub async fn admins(&self) -> Result<Vec<AdminItem>, StoreError> {
        let mut admins = Vec::new();
        let mut cursor = None;
        loop {
            let query = self
                .client()
                .query()
                .index_name(ALL_INDEX)
                .key_condition_expression("GSI2PK = :pk")
                .expression_attribute_values(":pk", s(ADMIN_LIST_PARTITION));
            let page: Page<AdminItem> = self
                .query_page(query, None, cursor.as_ref().map(|c| (c, Listing::Internal)))
                .await?;
            admins.extend(page.items);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(admins),
            }
        }
    }

    /// Changes an existing admin (never creates one); false if there is none.
    pub async fn update_admin(
        &self,
        admin_id: &str,
        change: AdminChange<'_>,
    ) -> Result<bool, StoreError> {
        let key = HashMap::from([
            ("PK".to_owned(), s(admin_pk(admin_id))),
            ("SK".to_owned(), s(ADMIN_SK)),
        ]);
        let request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key))
            .condition_expression("attribute_exists(PK)");
        // Every change retires the tokens issued before it, in the same write.
        let bump = "tokenGeneration = if_not_exists(tokenGeneration, :zero) + :one";
        let request = request
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1));
        let request = match change {
            AdminChange::Active(active) => request
                .update_expression(format!("SET active = :active, {bump}"))
                .expression_attribute_values(":active", AttributeValue::Bool(active)),
            AdminChange::Password { hash, changed_at } => request
                .update_expression(format!(
                    "SET passwordHash = :hash, passwordChangedAt = :at, {bump}"
                ))
                .expression_attribute_values(":hash", s(hash))
                .expression_attribute_values(":at", n(changed_at)),
        };
        written(request.send().await)
    }
}

pub enum AdminChange<'a> {
    Active(bool),
    Password { hash: &'a str, changed_at: i64 },
}
