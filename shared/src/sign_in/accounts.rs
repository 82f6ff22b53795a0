//! Managing support agents' accounts: what the ops command and the local stack do.

use crate::clock::Clock;
use crate::ids::new_admin_id;
use crate::sign_in::auth::{hash_password, normalize_email, CredentialError};
use crate::store::items::AdminItem;
use crate::store::{AdminChange, ChatStore, StoreError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] CredentialError),
    #[error("a name must be 1 to 100 characters")]
    BadName,
    #[error("an admin with email {0} already exists")]
    EmailTaken(String),
    #[error("no admin has email {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct AdminAccounts<'a> {
    store: &'a ChatStore,
    clock: &'a dyn Clock,
}

impl<'a> AdminAccounts<'a> {
    pub fn new(store: &'a ChatStore, clock: &'a dyn Clock) -> Self {
        Self { store, clock }
    }

    pub async fn create(
        &self,
        email: &str,
        name: &str,
        password: &str,
    ) -> Result<AdminItem, AccountError> {
        let email = normalize_email(email)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(AccountError::BadName);
        }
        let now = self.clock.now();
        let admin_id = new_admin_id();
        let admin = AdminItem::new(
            admin_id,
            email.clone(),
            name.to_owned(),
            hash_password(password)?,
            now,
        );
        if self.store.create_admin(&admin).await? {
            Ok(admin)
        } else {
            Err(AccountError::EmailTaken(email))
        }
    }

    pub async fn find(&self, email: &str) -> Result<AdminItem, AccountError> {
        let email = normalize_email(email)?;
        self.store
            .admin_by_email(&email)
            .await?
            .ok_or(AccountError::NotFound(email))
    }

    pub async fn list(&self) -> Result<Vec<AdminItem>, AccountError> {
        Ok(self.store.admins().await?)
    }

    /// Deactivated agents can neither sign in nor use tokens they hold (within a minute, the
    /// admin record cache); either change retires every token issued before it for good.
    pub async fn set_active(&self, email: &str, active: bool) -> Result<AdminItem, AccountError> {
        let admin = self.find(email).await?;
        self.change(&admin, AdminChange::Active(active)).await
    }

    /// Sets a new password; every token issued before now stops working.
    pub async fn reset_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<AdminItem, AccountError> {
        let admin = self.find(email).await?;
        let hash = hash_password(password)?;
        let changed_at = self.clock.now().timestamp();
        self.change(
            &admin,
            AdminChange::Password {
                hash: &hash,
                changed_at,
            },
        )
        .await
    }

    async fn change(
        &self,
        admin: &AdminItem,
        change: AdminChange<'_>,
    ) -> Result<AdminItem, AccountError> {
        if !self.store.update_admin(&admin.admin_id, change).await? {
            return Err(AccountError::NotFound(admin.email.clone()));
        }
        self.store
            .admin(&admin.admin_id)
            .await?
            .ok_or_else(|| AccountError::NotFound(admin.email.clone()))
    }

    /// The local stack's one admin: created, or given this password and re-activated.
    pub async fn ensure(
        &self,
        email: &str,
        name: &str,
        password: &str,
    ) -> Result<AdminItem, AccountError> {
        match self.create(email, name, password).await {
            Err(AccountError::EmailTaken(_)) => {
                self.reset_password(email, password).await?;
                self.set_active(email, true).await
            }
            other => other,
        }
    }
}
