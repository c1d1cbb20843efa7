//! The queue row's metadata blob, the same bytes on every backend: Temporal's
//! `persistencespb.Queue{ map<int32, QueuePartition{int64 min_message_id = 1}> partitions = 1 }`
//! in protobuf wire format, encoding `Proto3`, partition 0 only.

use crate::error::{Result, StoreError};
use crate::types::DataBlob;

/// The only partition used, as in Temporal.
const PARTITION: i64 = 0;

fn corrupt(why: &str) -> StoreError {
    StoreError::internal(format!(
        "stored queue metadata is not a valid Queue protobuf: {why}"
    ))
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A cursor over protobuf wire bytes.
struct Wire<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Wire<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Wire { buf, pos: 0 }
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let byte = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| corrupt("truncated varint"))?;
            self.pos += 1;
            if shift == 63 && byte > 1 {
                return Err(corrupt("varint overflows 64 bits"));
            }
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(corrupt("varint longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| corrupt("field runs past the end"))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn len_delimited(&mut self) -> Result<&'a [u8]> {
        let n = usize::try_from(self.varint()?).map_err(|_| corrupt("length out of range"))?;
        self.take(n)
    }

    /// Skips a field's value of the given wire type (unknown fields are allowed).
    fn skip(&mut self, wire_type: u64) -> Result<()> {
        match wire_type {
            0 => self.varint().map(|_| ()),
            1 => self.take(8).map(|_| ()),
            2 => self.len_delimited().map(|_| ()),
            5 => self.take(4).map(|_| ()),
            _ => Err(corrupt("unsupported wire type")),
        }
    }
}

/// Encodes `Queue{partitions: {0: {min_message_id}}}`.
pub fn encode(min_message_id: i64) -> Vec<u8> {
    let mut partition = Vec::new();
    if min_message_id != 0 {
        // QueuePartition.min_message_id: field 1, varint (proto3 omits the default 0; a negative
        // int64 is its 64-bit two's complement).
        partition.push(0x08);
        write_varint(&mut partition, min_message_id as u64);
    }
    // Map entry: key (field 1, varint) = 0, value (field 2, length-delimited).
    let mut entry = vec![0x08, 0x00, 0x12];
    write_varint(&mut entry, partition.len() as u64);
    entry.extend_from_slice(&partition);
    // Queue.partitions: field 1, length-delimited.
    let mut out = vec![0x0a];
    write_varint(&mut out, entry.len() as u64);
    out.extend_from_slice(&entry);
    out
}

/// Decodes partition 0's `min_message_id` (0 when absent, the proto3 default).
pub fn decode(buf: &[u8]) -> Result<i64> {
    let mut min = 0i64;
    let mut top = Wire::new(buf);
    while !top.done() {
        let tag = top.varint()?;
        // Field 1 (partitions), wire type 2.
        if tag != 0x0a {
            top.skip(tag & 7)?;
            continue;
        }
        let mut entry = Wire::new(top.len_delimited()?);
        let (mut key, mut value) = (0i64, &[][..]);
        while !entry.done() {
            let t = entry.varint()?;
            match (t >> 3, t & 7) {
                (1, 0) => key = i64::from(entry.varint()? as i32),
                (2, 2) => value = entry.len_delimited()?,
                (_, w) => entry.skip(w)?,
            }
        }
        if key != PARTITION {
            continue;
        }
        // The last entry for a key wins, as protobuf map decoding does.
        min = 0;
        let mut part = Wire::new(value);
        while !part.done() {
            let t = part.varint()?;
            match (t >> 3, t & 7) {
                (1, 0) => min = part.varint()? as i64,
                (_, w) => part.skip(w)?,
            }
        }
    }
    Ok(min)
}

/// A stored metadata blob's `min_message_id`, checking its encoding first.
pub fn min_message_id(encoding: &str, data: &[u8]) -> Result<i64> {
    if encoding != DataBlob::PROTO3 {
        return Err(StoreError::internal(format!(
            "queue metadata has encoding {encoding:?}, expected {}",
            DataBlob::PROTO3
        )));
    }
    decode(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        // Byte-identical to Temporal's protobuf encoder.
        assert_eq!(encode(0), vec![0x0a, 0x04, 0x08, 0x00, 0x12, 0x00]);
        assert_eq!(
            encode(5),
            vec![0x0a, 0x06, 0x08, 0x00, 0x12, 0x02, 0x08, 0x05]
        );
        for v in [0, 1, 127, 128, 300, i64::MAX, -1, i64::MIN] {
            assert_eq!(decode(&encode(v)).ok(), Some(v));
        }
        assert_eq!(decode(&[]).ok(), Some(0));
        assert!(decode(&[0x0a, 0x05]).is_err());
        assert!(decode(&[0x0a]).is_err());
        assert!(decode(&[0xff; 11]).is_err());
        assert!(min_message_id("json", &encode(1)).is_err());
        assert_eq!(min_message_id(DataBlob::PROTO3, &encode(7)).ok(), Some(7));
    }

    #[test]
    fn other_partitions_and_unknown_fields_are_skipped() {
        // partitions {7: {min 9}} then {0: {min 4}}, plus an unknown top-level varint field 2.
        let mut buf = vec![0x10, 0x2a];
        buf.extend([0x0a, 0x06, 0x08, 0x07, 0x12, 0x02, 0x08, 0x09]);
        buf.extend([0x0a, 0x06, 0x08, 0x00, 0x12, 0x02, 0x08, 0x04]);
        assert_eq!(decode(&buf).ok(), Some(4));
    }
}
