//! How stored rows are compressed (`_lore_row_effect.before`/`after`, snapshots): JSON, raw
//! deflate (RFC 1951), and [`Packer`], which compresses a large commit's rows on a second
//! thread while the writer goes on.
//!
//! Any deflate stream is valid (docs/versioning.md, "Tables"); lore writes level 6, and a row
//! whose JSON is shorter than [`STORED_BELOW`] bytes as one stored (uncompressed) block:
//! deflate saves a tenth of such a row and costs more than recording the rest of it. Nothing
//! is refused here; [`unpack`] says when stored bytes are not what [`pack`] wrote.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::mpsc;

use super::Error;
use super::value::{self, Row};

/// The deflate level of stored rows. Measured on 2,000 generated transcripts: level 6 keeps
/// lore.db with history at 1.50x the size of the same data without it, level 1 at 1.54x for
/// about a quarter less import time. (zlib-rs, 2026-12: levels 2 to 6 cost the same and level
/// 1 writes a third more bytes.)
const LEVEL: u32 = 6;

/// Rows whose JSON is shorter than this are stored, not compressed. Measured on the 2,000
/// generated transcripts (110,356 rows): the 53,318 rows under 192 bytes (message keys, mostly)
/// took 0.55 s to deflate at level 6 and came out 11% smaller; stored, they cost nothing.
pub const STORED_BELOW: usize = 192;

thread_local! {
    /// One compressor per thread, reset between uses: building a deflate compressor allocates
    /// and zeroes a few hundred kilobytes, far more than compressing one row costs.
    static DEFLATE: std::cell::RefCell<flate2::Compress> =
        std::cell::RefCell::new(flate2::Compress::new(flate2::Compression::new(LEVEL), false));
}

/// Compresses a JSON value (raw deflate, RFC 1951).
pub fn pack(v: &serde_json::Value) -> Vec<u8> {
    deflate(&serde_json::to_vec(v).unwrap_or_default())
}

/// Compresses a row as [`pack`] does.
pub fn pack_row(row: &Row) -> Vec<u8> {
    pack(&value::row_to_json(row))
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() < STORED_BELOW {
        return stored_blocks(bytes);
    }
    DEFLATE.with(|c| {
        let mut c = c.borrow_mut();
        c.reset();
        let mut out = Vec::with_capacity(bytes.len() / 2 + 64);
        loop {
            let consumed = c.total_in() as usize;
            match c.compress_vec(&bytes[consumed..], &mut out, flate2::FlushCompress::Finish) {
                Ok(flate2::Status::StreamEnd) => return out,
                Ok(_) => out.reserve(out.capacity().max(64)),
                // Compressing into a growing Vec cannot fail; keep the row rather than lose it.
                Err(_) => return stored_blocks(bytes),
            }
        }
    })
}

/// `bytes` as stored blocks of at most 65,535 bytes, the last one final (RFC 1951, 3.2.4).
fn stored_blocks(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 5 * (bytes.len() / 65_535 + 1));
    let mut chunks = bytes.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let len = chunk.len() as u16;
        out.push(u8::from(last));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

/// Decompresses what [`pack`] wrote.
pub fn unpack(bytes: &[u8]) -> Result<serde_json::Value, Error> {
    let mut text = Vec::new();
    flate2::read::DeflateDecoder::new(bytes)
        .read_to_end(&mut text)
        .map_err(|e| Error::Corrupt(format!("a stored effect does not decompress: {e}")))?;
    serde_json::from_slice(&text)
        .map_err(|e| Error::Corrupt(format!("a stored effect is not JSON: {e}")))
}

/// A stored row, decompressed.
pub fn unpack_row(bytes: &[u8]) -> Result<Row, Error> {
    Ok(value::row_from_json(&unpack(bytes)?)?)
}

/// Row effects start going to the second thread after this many in one commit: a hook's
/// small import never starts a thread.
const INLINE_EFFECTS: usize = 64;

/// At most this many effects, and this many bytes of their rows, wait to be compressed:
/// memory stays bounded however large the commit or its rows (a tool output is up to 256 KiB).
const IN_FLIGHT: usize = 512;
const IN_FLIGHT_BYTES: usize = 16 << 20;

/// Compresses the rows of one commit's effects, on a second thread once the commit is large,
/// and hands back each effect with its compressed rows in the order they were given.
///
/// Deflate is a fifth of an import's time; the writer thread meanwhile hashes, inserts and
/// reads the next session. The results are the bytes [`pack_row`] writes, whichever thread
/// made them.
pub struct Packer<T> {
    given: usize,
    worker: Option<Worker>,
    /// Effects given to the worker, oldest first, waiting for their rows, with their rows'
    /// size.
    waiting: VecDeque<(T, usize)>,
    /// The sum of those sizes.
    waiting_bytes: usize,
}

struct Worker {
    jobs: mpsc::SyncSender<[Option<Row>; 2]>,
    done: mpsc::Receiver<[Option<Vec<u8>>; 2]>,
    thread: std::thread::JoinHandle<()>,
}

/// One effect whose rows are compressed.
pub type Packed<T> = (T, [Option<Vec<u8>>; 2]);

impl<T> Default for Packer<T> {
    fn default() -> Self {
        Packer {
            given: 0,
            worker: None,
            waiting: VecDeque::new(),
            waiting_bytes: 0,
        }
    }
}

impl<T> Packer<T> {
    /// Gives an effect (`tag`) and its rows (before, after); returns every effect whose rows
    /// are compressed by now, in the order given.
    pub fn give(
        &mut self,
        tag: T,
        before: Option<&Row>,
        after: Option<&Row>,
    ) -> Result<Vec<Packed<T>>, Error> {
        self.given += 1;
        if self.given > INLINE_EFFECTS && self.worker.is_none() {
            self.worker = Worker::start();
        }
        if self.worker.is_none() {
            return Ok(vec![(tag, [before.map(pack_row), after.map(pack_row)])]);
        }
        let mut ready = Vec::new();
        let size = before.map_or(0, row_size) + after.map_or(0, row_size);
        // The queue is full: wait for the oldest rows rather than hold more.
        while !self.waiting.is_empty()
            && (self.waiting.len() >= IN_FLIGHT || self.waiting_bytes + size > IN_FLIGHT_BYTES)
        {
            ready.push(self.receive()?);
        }
        let Some(worker) = &self.worker else {
            return Err(lost());
        };
        worker
            .jobs
            .send([before.cloned(), after.cloned()])
            .map_err(|_| lost())?;
        self.waiting.push_back((tag, size));
        self.waiting_bytes += size;
        while let Some(done) = self.try_receive()? {
            ready.push(done);
        }
        Ok(ready)
    }

    /// Every effect still waiting, compressed, in the order given.
    pub fn finish(&mut self) -> Result<Vec<Packed<T>>, Error> {
        let mut ready = Vec::with_capacity(self.waiting.len());
        while !self.waiting.is_empty() {
            ready.push(self.receive()?);
        }
        Ok(ready)
    }

    fn try_receive(&mut self) -> Result<Option<Packed<T>>, Error> {
        if self.waiting.is_empty() {
            return Ok(None);
        }
        let Some(worker) = &self.worker else {
            return Err(lost());
        };
        match worker.done.try_recv() {
            Ok(rows) => Ok(self.pop_waiting().map(|tag| (tag, rows))),
            Err(mpsc::TryRecvError::Empty) => Ok(None),
            Err(mpsc::TryRecvError::Disconnected) => Err(lost()),
        }
    }

    fn receive(&mut self) -> Result<Packed<T>, Error> {
        let rows = match &self.worker {
            Some(worker) if !self.waiting.is_empty() => worker.done.recv().map_err(|_| lost())?,
            _ => return Err(lost()),
        };
        let tag = self.pop_waiting().ok_or_else(lost)?;
        Ok((tag, rows))
    }

    fn pop_waiting(&mut self) -> Option<T> {
        let (tag, size) = self.waiting.pop_front()?;
        self.waiting_bytes -= size;
        Some(tag)
    }
}

impl<T> Drop for Packer<T> {
    fn drop(&mut self) {
        if let Some(w) = self.worker.take() {
            drop(w.jobs);
            drop(w.done);
            let _ = w.thread.join();
        }
    }
}

impl Worker {
    /// `None` when no thread can be started: everything is then compressed inline.
    fn start() -> Option<Worker> {
        let (jobs, job_rx) = mpsc::sync_channel::<[Option<Row>; 2]>(IN_FLIGHT);
        let (done_tx, done) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("lore-pack".into())
            .spawn(move || {
                for [before, after] in job_rx {
                    let packed = [before.as_ref().map(pack_row), after.as_ref().map(pack_row)];
                    if done_tx.send(packed).is_err() {
                        return;
                    }
                }
            })
            .ok()?;
        Some(Worker { jobs, done, thread })
    }
}

/// About how many bytes a row holds (its text and blobs; numbers count 8).
fn row_size(row: &Row) -> usize {
    use super::value::Value;
    row.iter()
        .map(|(name, v)| {
            name.len()
                + match v {
                    Value::Text(t) => t.len(),
                    Value::Blob(b) => b.len(),
                    _ => 8,
                }
        })
        .sum()
}

fn lost() -> Error {
    Error::Corrupt("the thread compressing row effects stopped; nothing was written".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::versioning::value::Value;

    fn row(text: &str) -> Row {
        let mut r = Row::new();
        r.insert("id".into(), Value::Integer(1));
        r.insert("content".into(), Value::Text(text.into()));
        r
    }

    #[test]
    fn short_rows_are_stored_and_long_ones_compressed_and_both_read_back() {
        for text in ["", "short", &"long text ".repeat(100), &"x".repeat(70_000)] {
            let r = row(text);
            let packed = pack_row(&r);
            let json = serde_json::to_vec(&value::row_to_json(&r)).unwrap();
            if json.len() < STORED_BELOW {
                assert_eq!(packed[0], 0x01, "one final stored block");
                assert_eq!(packed.len(), json.len() + 5);
            } else {
                assert!(packed.len() < json.len(), "compressed");
            }
            assert_eq!(unpack_row(&packed).unwrap(), r);
        }
        // Stored blocks of more than 64 KiB, the fallback, read back too.
        let big = vec![b'a'; 200_000];
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(&stored_blocks(&big)[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, big);
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(&stored_blocks(&[])[..])
            .read_to_end(&mut out)
            .unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn the_packer_returns_every_effect_in_order_with_the_bytes_pack_writes() {
        let mut p = Packer::default();
        let mut got = Vec::new();
        let n = INLINE_EFFECTS + 3 * IN_FLIGHT + 7;
        for i in 0..n {
            let before = (i % 3 == 0).then(|| row(&format!("before {i} ").repeat(i % 50)));
            let after = (i % 5 != 0).then(|| row(&format!("after {i} ").repeat(i % 40)));
            for (tag, rows) in p.give(i, before.as_ref(), after.as_ref()).unwrap() {
                got.push((tag, rows));
            }
        }
        got.extend(p.finish().unwrap());
        assert_eq!(got.len(), n);
        for (i, (tag, [b, a])) in got.iter().enumerate() {
            assert_eq!(*tag, i);
            let before = (i % 3 == 0).then(|| row(&format!("before {i} ").repeat(i % 50)));
            let after = (i % 5 != 0).then(|| row(&format!("after {i} ").repeat(i % 40)));
            assert_eq!(b, &before.as_ref().map(pack_row));
            assert_eq!(a, &after.as_ref().map(pack_row));
        }
        assert!(p.worker.is_some(), "a large commit used the second thread");
    }

    #[test]
    fn large_rows_wait_within_the_byte_budget() {
        let mut p = Packer::default();
        let big = row(&"y".repeat(1 << 20));
        let mut got = 0;
        for i in 0..INLINE_EFFECTS + 40 {
            got += p.give(i, None, Some(&big)).unwrap().len();
            assert!(p.waiting_bytes <= IN_FLIGHT_BYTES, "{}", p.waiting_bytes);
        }
        got += p.finish().unwrap().len();
        assert_eq!(got, INLINE_EFFECTS + 40);
        assert_eq!(p.waiting_bytes, 0);
    }
}
