//! Describing a live keyspace from `system_schema`: what `schema verify` compares with the
//! expected schema built in a scratch keyspace.

use std::collections::BTreeMap;

use durastore_api::Result;
use durastore_api::schema::{
    self, ColumnDescription, IndexDescription, SchemaDescription, TableDescription,
};
use scylla::value::CqlValue;

use crate::session::{CRow, Cass, vals};

fn text_list(v: Option<&CqlValue>) -> Vec<String> {
    match v {
        Some(CqlValue::List(items)) | Some(CqlValue::Set(items)) => items
            .iter()
            .filter_map(|i| match i {
                CqlValue::Text(s) | CqlValue::Ascii(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn map_get(v: Option<&CqlValue>, key: &str) -> Option<String> {
    let Some(CqlValue::Map(entries)) = v else {
        return None;
    };
    entries.iter().find_map(|(k, v)| match (k, v) {
        (CqlValue::Text(k), CqlValue::Text(v)) if k == key => Some(v.clone()),
        _ => None,
    })
}

/// One key column of a table, with its position in the key and its clustering order.
struct KeyColumn {
    position: i64,
    name: String,
    order: String,
}

/// The columns of every table of a keyspace as `system_schema.columns` lists them, by table.
#[derive(Default)]
struct TableColumns {
    partition: BTreeMap<String, Vec<KeyColumn>>,
    clustering: BTreeMap<String, Vec<KeyColumn>>,
    all: BTreeMap<String, Vec<ColumnDescription>>,
}

/// Tables, columns, keys, indexes and types of the keyspace, from `system_schema`.
///
/// Primary keys are described in CQL's own shape: the first entry is the partition key in
/// parentheses, then each clustering column, followed by ` DESC` when it sorts descending, so
/// a drift reads `primary key ((shard_id), type), expected ((shard_id), type, task_id)`.
pub(super) async fn describe_keyspace(cass: &Cass) -> Result<SchemaDescription> {
    let ks = cass.keyspace();
    let mut out = SchemaDescription::default();
    for t in cass
        .rows(
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?",
            vals![ks],
        )
        .await?
    {
        out.tables
            .insert(t.text("table_name")?, TableDescription::default());
    }
    let mut columns = read_columns(cass).await?;
    for (table, desc) in out.tables.iter_mut() {
        columns.describe(table, desc);
    }
    describe_indexes(cass, &mut out).await?;
    describe_types(cass, &mut out).await?;
    Ok(out)
}

/// Every column of the keyspace, sorted into key and other columns per table.
async fn read_columns(cass: &Cass) -> Result<TableColumns> {
    let mut out = TableColumns::default();
    for c in cass
        .rows(
            "SELECT table_name, column_name, kind, position, type, clustering_order \
             FROM system_schema.columns WHERE keyspace_name = ?",
            vals![cass.keyspace()],
        )
        .await?
    {
        let table = c.text("table_name")?;
        let name = c.text("column_name")?;
        let kind = c.text("kind")?;
        let data_type = schema::normalize_type(&c.text("type")?);
        let key = |c: &CRow| -> Result<KeyColumn> {
            Ok(KeyColumn {
                position: c.opt_i64("position")?.unwrap_or(0),
                name: name.clone(),
                order: c.text("clustering_order")?.to_ascii_uppercase(),
            })
        };
        let col = ColumnDescription {
            name: name.clone(),
            data_type: if kind == "static" {
                format!("{data_type} STATIC")
            } else {
                data_type
            },
            nullable: !matches!(kind.as_str(), "partition_key" | "clustering"),
            default: None,
        };
        match kind.as_str() {
            "partition_key" => out
                .partition
                .entry(table.clone())
                .or_default()
                .push(key(&c)?),
            "clustering" => out
                .clustering
                .entry(table.clone())
                .or_default()
                .push(key(&c)?),
            _ => {}
        }
        out.all.entry(table).or_default().push(col);
    }
    Ok(out)
}

impl TableColumns {
    /// Moves `table`'s columns into `desc`: key columns first in key order, then the others by
    /// name, and the primary key in CQL's shape.
    fn describe(&mut self, table: &str, desc: &mut TableDescription) {
        let mut pk = self.partition.remove(table).unwrap_or_default();
        pk.sort_by_key(|k| k.position);
        let mut ck = self.clustering.remove(table).unwrap_or_default();
        ck.sort_by_key(|k| k.position);
        let mut cols = self.all.remove(table).unwrap_or_default();
        // Key columns first in key order, then the others by name (system_schema lists them
        // alphabetically).
        let rank = |name: &str| -> (usize, usize) {
            if let Some(i) = pk.iter().position(|k| k.name == name) {
                (0, i)
            } else if let Some(i) = ck.iter().position(|k| k.name == name) {
                (1, i)
            } else {
                (2, 0)
            }
        };
        cols.sort_by(|a, b| {
            rank(&a.name)
                .cmp(&rank(&b.name))
                .then_with(|| a.name.cmp(&b.name))
        });
        desc.columns = cols;
        if !pk.is_empty() {
            desc.primary_key.push(format!(
                "({})",
                pk.iter()
                    .map(|k| k.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for k in &ck {
            desc.primary_key.push(if k.order == "DESC" {
                format!("{} DESC", k.name)
            } else {
                k.name.clone()
            });
        }
    }
}

/// Adds the keyspace's secondary indexes to their tables.
async fn describe_indexes(cass: &Cass, out: &mut SchemaDescription) -> Result<()> {
    for i in cass
        .rows(
            "SELECT table_name, index_name, kind, options FROM system_schema.indexes \
             WHERE keyspace_name = ?",
            vals![cass.keyspace()],
        )
        .await?
    {
        let table = i.text("table_name")?;
        let target = map_get(i.get("options"), "target")
            .unwrap_or_else(|| i.text("kind").unwrap_or_default());
        out.tables.entry(table).or_default().indexes.insert(
            i.text("index_name")?,
            IndexDescription {
                unique: false,
                columns: vec![target],
            },
        );
    }
    Ok(())
}

/// Adds the keyspace's user-defined types as `type <name>` entries whose columns are the fields.
async fn describe_types(cass: &Cass, out: &mut SchemaDescription) -> Result<()> {
    for t in cass
        .rows(
            "SELECT type_name, field_names, field_types FROM system_schema.types \
             WHERE keyspace_name = ?",
            vals![cass.keyspace()],
        )
        .await?
    {
        let names = text_list(t.get("field_names"));
        let types = text_list(t.get("field_types"));
        let columns = names
            .into_iter()
            .zip(types)
            .map(|(name, ty)| ColumnDescription {
                name,
                data_type: schema::normalize_type(&ty),
                nullable: true,
                default: None,
            })
            .collect();
        out.tables.insert(
            format!("type {}", t.text("type_name")?),
            TableDescription {
                columns,
                ..TableDescription::default()
            },
        );
    }
    Ok(())
}
