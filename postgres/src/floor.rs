//! Recorded stores for `durastore bench --floor` (feature `floor`): the stores of
//! [`crate::open`] over a [`RecordingDriver`], so every statement the store logic sends is
//! logged for replay without it (see [`durastore_sql::floor`]).

use std::sync::Arc;

use durastore_api::{Result, Stores};
use durastore_sql::SqlDriver;
use durastore_sql::record::{Recorder, RecordingDriver};

/// [`crate::open`], with every statement logged to `recorder`.
pub async fn open_recorded(url: &str, recorder: Arc<Recorder>) -> Result<Stores> {
    crate::open_over(url, |d| -> Arc<dyn SqlDriver> {
        Arc::new(RecordingDriver::new(d, recorder))
    })
    .await
}
