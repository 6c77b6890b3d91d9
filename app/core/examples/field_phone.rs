//! A second phone on the command line, for the app's end-to-end test (a conflict needs two
//! devices writing one field concurrently) and for trying a server by hand:
//!
//! ```text
//! cargo run -p pengwang-core --example field_phone -- DB enroll URL CODE
//! cargo run -p pengwang-core --example field_phone -- DB sync
//! cargo run -p pengwang-core --example field_phone -- DB set-item BUILDING ITEM KEY TEXT
//! ```
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use pengwang_core::Device;
use pengwang_shared::document::{FieldValue, RecordRef};
use pengwang_shared::id::{BuildingId, ItemId};
use pengwang_shared::time::SystemClock;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db, command, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: field_phone DB (enroll URL CODE | sync | set-item B I KEY TEXT)".into(),
        );
    };
    let device = Device::open(db.as_ref(), Arc::new(SystemClock))?;
    match (command.as_str(), rest) {
        ("enroll", [url, code]) => {
            let account = device.enroll(url, code, "field_phone").await?;
            println!("enrolled as {} ({})", account.name, account.role);
        }
        ("sync", []) => {
            let r = device.sync().await?;
            println!(
                "sent {} received {} open_conflicts {}",
                r.docs_sent, r.docs_received, r.open_conflicts
            );
        }
        ("set-item", [b, i, key, text]) => {
            let record = RecordRef::Item(ItemId::parse(i)?);
            let value = FieldValue::Text(text.clone());
            device.set_field(BuildingId::parse(b)?, record, key, value)?;
            println!("set {key} = {text}");
        }
        _ => return Err(format!("unknown command {command:?} {rest:?}").into()),
    }
    Ok(())
}
