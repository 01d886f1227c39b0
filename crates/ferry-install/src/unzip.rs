//! Unpacking a wheel's ZIP archive into a directory: front to back as the bytes arrive
//! ([`unzip_stream`], used for downloads so a wheel is unpacked while it downloads and never
//! lands on disk whole), or by its central directory ([`unzip_seekable`], for local files the
//! stream reader cannot follow).
//!
//! The stream reader trusts nothing it has not yet checked against the rest of the archive.
//! Every entry's data is checked against the CRC-32 and sizes of its local header (or its data
//! descriptor), and at the end the central directory must list exactly the entries that were
//! read, in the same order, at the same offsets, with the same names, CRCs, sizes and methods.
//! A ZIP whose local headers and central directory disagree is refused, so no reader can be
//! shown one archive and install another. The unpacking goes into a directory that its caller
//! throws away on any error.
//!
//! Both readers refuse unsafe entry names (absolute, `..`, backslashes) and names that appear
//! twice. They write files with mode 0644 and give the entry list (with each file's unix mode
//! from the central directory) to [`crate::store`], which sets executable bits and handles
//! link entries and RECORD.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use flate2::{Decompress, FlushDecompress, Status};

use crate::files::create_file;

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const DESCRIPTOR: u32 = 0x0807_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const END: u32 = 0x0605_4b50;

/// The largest central directory the stream reader keeps in memory (a wheel with 100,000
/// files has one of about 10 MiB).
const MAX_CENTRAL: usize = 64 << 20;

/// The size of each piece read from a file or written out while inflating.
const CHUNK: usize = 64 * 1024;

/// One entry of an unpacked archive, in archive order.
#[derive(Debug, Clone)]
pub(crate) struct Unpacked {
    /// The entry's name as a relative path (checked).
    pub relative: PathBuf,
    /// The entry's name, `/`-separated, as RECORD spells it.
    pub name: String,
    pub is_dir: bool,
    /// The uncompressed size.
    pub size: u64,
    /// Unix mode bits from the central directory, when the archive was made on Unix.
    pub mode: Option<u32>,
}

/// Why an archive was not unpacked.
#[derive(Debug)]
pub(crate) enum UnzipError {
    /// The stream reader cannot follow this layout (data before the first entry or between
    /// entries, a stored entry with a data descriptor, a compression method other than stored
    /// and deflate, a name that is not UTF-8); reading it by its central directory may work.
    Unsupported(String),
    /// The archive is broken or unsafe.
    Broken(String),
    /// Writing the unpacked files failed.
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl UnzipError {
    fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}

/// Where the stream reader's bytes come from, a piece at a time.
pub(crate) trait Chunks {
    /// The next piece, or `None` at the end; a source that breaks off returns an error.
    /// `spent` is the previous piece, handed back so its buffer can be used again (buffers
    /// going round, rather than one allocation per piece on one thread and its release on
    /// another, keep the allocator's heap from fragmenting while dozens of wheels unpack).
    fn next_chunk(&mut self, spent: Vec<u8>) -> std::io::Result<Option<Vec<u8>>>;
}

/// [`Chunks`] from anything readable (a local wheel file).
pub(crate) struct ReadChunks<R>(pub R);

impl<R: Read> Chunks for ReadChunks<R> {
    fn next_chunk(&mut self, mut buffer: Vec<u8>) -> std::io::Result<Option<Vec<u8>>> {
        buffer.resize(CHUNK, 0);
        loop {
            match self.0.read(&mut buffer) {
                Ok(0) => return Ok(None),
                Ok(n) => {
                    buffer.truncate(n);
                    return Ok(Some(buffer));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// [`Chunks`] arriving over a channel from a download (the end of the channel is the end of
/// the body); spent buffers go back over `spent` to be filled again.
pub(crate) struct ChannelChunks {
    pub receiver: tokio::sync::mpsc::Receiver<Vec<u8>>,
    pub spent: std::sync::mpsc::Sender<Vec<u8>>,
}

impl Chunks for ChannelChunks {
    fn next_chunk(&mut self, spent: Vec<u8>) -> std::io::Result<Option<Vec<u8>>> {
        if spent.capacity() > 0 {
            let _ = self.spent.send(spent);
        }
        Ok(self.receiver.blocking_recv())
    }
}

/// The bytes of an archive, read in order, with the offset of the next one.
struct Input<C> {
    source: C,
    chunk: Vec<u8>,
    pos: usize,
    offset: u64,
}

impl<C: Chunks> Input<C> {
    /// The bytes available now (empty only at the end of the archive).
    fn fill(&mut self) -> Result<&[u8], UnzipError> {
        while self.pos == self.chunk.len() {
            match self.source.next_chunk(std::mem::take(&mut self.chunk)) {
                Ok(Some(chunk)) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Ok(None) => return Ok(&[]),
                Err(e) => return Err(UnzipError::Broken(format!("reading it failed: {e}"))),
            }
        }
        Ok(&self.chunk[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        self.offset += n as u64;
    }

    fn exact(&mut self, out: &mut [u8]) -> Result<(), UnzipError> {
        let mut filled = 0;
        while filled < out.len() {
            let available = self.fill()?;
            if available.is_empty() {
                return Err(UnzipError::Broken(format!(
                    "it ends early (at byte {})",
                    self.offset
                )));
            }
            let n = available.len().min(out.len() - filled);
            out[filled..filled + n].copy_from_slice(&available[..n]);
            self.consume(n);
            filled += n;
        }
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], UnzipError> {
        let mut out = [0; N];
        self.exact(&mut out)?;
        Ok(out)
    }

    fn vec(&mut self, len: usize) -> Result<Vec<u8>, UnzipError> {
        let mut out = vec![0; len];
        self.exact(&mut out)?;
        Ok(out)
    }

    /// Everything left, up to `limit` bytes.
    fn rest(&mut self, limit: usize) -> Result<Vec<u8>, UnzipError> {
        let mut out = Vec::new();
        loop {
            let available = self.fill()?;
            if available.is_empty() {
                return Ok(out);
            }
            if out.len() + available.len() > limit {
                return Err(UnzipError::Broken(format!(
                    "its central directory is larger than {} MiB",
                    limit >> 20
                )));
            }
            out.extend_from_slice(available);
            let n = available.len();
            self.consume(n);
        }
    }
}

fn le16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default())
}

fn le64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default())
}

/// Checks one entry name and returns it as a relative path, or says why it is refused.
pub(crate) fn safe_relative(name: &str) -> Result<PathBuf, String> {
    if name.contains('\\') {
        return Err("uses a backslash".into());
    }
    // `C:/x` or `C:x`: a path on another drive, wherever the wheel is unpacked on Windows.
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err("starts with a drive letter".into());
    }
    let mut out = PathBuf::new();
    for component in Path::new(name).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("climbs out with `..`".into()),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path".into()),
        }
    }
    if out.as_os_str().is_empty() {
        return Err("is empty".into());
    }
    Ok(out)
}

/// Refuses a name that differs from one already seen only in case: on a case-insensitive file
/// system (macOS, Windows) the two are one file, and which content wins depends on order.
fn same_but_case(folded: &mut HashMap<String, String>, name: &str) -> Result<(), String> {
    let key = name.trim_end_matches('/').to_lowercase();
    match folded.get(&key) {
        Some(other) if other.trim_end_matches('/') != name.trim_end_matches('/') => {
            Err(format!("differs from `{other}` only in case"))
        }
        Some(_) => Ok(()),
        None => {
            folded.insert(key, name.to_string());
            Ok(())
        }
    }
}

/// A checked relative path as RECORD spells it.
fn row_name(relative: &Path) -> String {
    relative.to_string_lossy().replace('\\', "/")
}

/// An entry name's text: UTF-8 when the archive says so or when it is plain ASCII.
fn entry_name(bytes: Vec<u8>, flags: u16) -> Result<String, UnzipError> {
    if flags & 0x800 == 0 && !bytes.is_ascii() {
        return Err(UnzipError::Unsupported(
            "an entry name is in a legacy (non-UTF-8) encoding".into(),
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| UnzipError::Broken("an entry name is marked UTF-8 but is not".into()))
}

/// The values of a ZIP64 extra field (`0x0001`) that stand in for `0xFFFFFFFF` fields, in the
/// order the format gives: uncompressed size, compressed size, header offset.
fn zip64_values(extra: &[u8], wanted: &[bool]) -> Result<Vec<Option<u64>>, UnzipError> {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = le16(extra, at);
        let len = le16(extra, at + 2) as usize;
        let body = extra
            .get(at + 4..at + 4 + len)
            .ok_or_else(|| UnzipError::Broken("an extra field runs past its entry".into()))?;
        if id == 1 {
            let mut values = Vec::new();
            let mut pos = 0;
            for &want in wanted {
                if want {
                    if pos + 8 > body.len() {
                        return Err(UnzipError::Broken("a ZIP64 extra field is short".into()));
                    }
                    values.push(Some(le64(body, pos)));
                    pos += 8;
                } else {
                    values.push(None);
                }
            }
            return Ok(values);
        }
        at += 4 + len;
    }
    if wanted.iter().any(|&w| w) {
        return Err(UnzipError::Broken(
            "an entry's size is 0xFFFFFFFF with no ZIP64 field".into(),
        ));
    }
    Ok(wanted.iter().map(|_| None).collect())
}

/// What a local header said, and what its data turned out to be.
struct Local {
    offset: u64,
    name: String,
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
}

/// Unpacks the archive `source` gives into `dir`, reading it once from front to back, and
/// returns its entries in order.
pub(crate) fn unzip_stream<C: Chunks>(source: C, dir: &Path) -> Result<Vec<Unpacked>, UnzipError> {
    let mut input = Input {
        source,
        chunk: Vec::new(),
        pos: 0,
        offset: 0,
    };
    let mut locals: Vec<Local> = Vec::new();
    let mut entries: Vec<Unpacked> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut folded: HashMap<String, String> = HashMap::new();
    let mut made_dirs: HashSet<PathBuf> = HashSet::new();
    let mut out = vec![0u8; CHUNK];
    let (mut unpacked, limit) = (0u64, ferry_types::limits::max_unpacked());
    // One inflater for all entries (reset for each): its state and window are about 40 KiB.
    let mut inflater = Decompress::new(false);
    loop {
        let offset = input.offset;
        let signature = u32::from_le_bytes(input.array::<4>()?);
        match signature {
            LOCAL => {}
            CENTRAL if !locals.is_empty() => break,
            _ if locals.is_empty() => {
                return Err(UnzipError::Unsupported(
                    "it does not start with an entry".into(),
                ))
            }
            _ => {
                return Err(UnzipError::Unsupported(format!(
                    "something other than an entry is at byte {offset}"
                )))
            }
        }
        let header = input.array::<26>()?;
        let flags = le16(&header, 2);
        let method = le16(&header, 4);
        let crc = le32(&header, 10);
        let mut compressed = u64::from(le32(&header, 14));
        let mut size = u64::from(le32(&header, 18));
        let name = input.vec(le16(&header, 22) as usize)?;
        let extra = input.vec(le16(&header, 24) as usize)?;
        let name = entry_name(name, flags)?;
        let broken = |why: &str| UnzipError::Broken(format!("entry `{name}` {why}"));
        if flags & 1 != 0 {
            return Err(broken("is encrypted"));
        }
        let big = size == 0xFFFF_FFFF || compressed == 0xFFFF_FFFF;
        let zip64 = big || has_zip64(&extra);
        if big {
            let values = zip64_values(&extra, &[true, true])?;
            size = values[0].unwrap_or(size);
            compressed = values[1].unwrap_or(compressed);
        }
        let descriptor = flags & 8 != 0;
        match (method, descriptor) {
            (0, false) | (8, _) => {}
            (0, true) => {
                return Err(UnzipError::Unsupported(format!(
                    "entry `{name}` is stored with a data descriptor"
                )))
            }
            (other, _) => {
                return Err(UnzipError::Unsupported(format!(
                    "entry `{name}` uses compression method {other}"
                )))
            }
        }
        let relative = safe_relative(&name).map_err(|why| broken(&why))?;
        if !seen.insert(name.clone()) {
            return Err(broken("appears twice"));
        }
        same_but_case(&mut folded, &name).map_err(|why| broken(&why))?;
        let is_dir = name.ends_with('/');
        let dest = dir.join(&relative);
        let mut file = if is_dir {
            std::fs::create_dir_all(&dest).map_err(UnzipError::io("create", &dest))?;
            made_dirs.insert(dest.clone());
            None
        } else {
            if let Some(parent) = dest.parent() {
                if made_dirs.insert(parent.to_path_buf()) {
                    std::fs::create_dir_all(parent).map_err(UnzipError::io("create", parent))?;
                }
            }
            Some(create_file(&dest, false).map_err(UnzipError::io("write", &dest))?)
        };
        let mut sink = EntrySink {
            file: file.as_mut(),
            dest: &dest,
            crc: crc32fast::Hasher::new(),
            size: 0,
            before: unpacked,
            limit,
        };
        let declared = (!descriptor).then_some((compressed, size));
        let read = if method == 0 {
            copy_stored(&mut input, compressed, &mut sink).map_err(|e| e.named(&name))?
        } else {
            inflater.reset(false);
            inflate(&mut input, &mut inflater, declared, &mut sink, &mut out)
                .map_err(|e| e.named(&name))?
        };
        let (crc, compressed, size) = if descriptor {
            read_descriptor(&mut input, zip64)?
        } else {
            (crc, compressed, size)
        };
        if is_dir && sink.size > 0 {
            return Err(broken("is a directory with contents"));
        }
        let got_crc = sink.crc.clone().finalize();
        if read != compressed || sink.size != size {
            return Err(broken("is corrupt: its size does not match its header"));
        }
        if got_crc != crc {
            return Err(broken("is corrupt: its CRC-32 does not match"));
        }
        let written = sink.size;
        unpacked += written;
        locals.push(Local {
            offset,
            name: name.clone(),
            method,
            crc,
            compressed,
            size,
        });
        entries.push(Unpacked {
            name: row_name(&relative),
            relative,
            is_dir,
            size: written,
            mode: None,
        });
    }
    let central_start = input.offset - 4;
    let mut central = CENTRAL.to_le_bytes().to_vec();
    central.extend(input.rest(MAX_CENTRAL)?);
    check_central(&central, central_start, &locals, &mut entries)?;
    Ok(entries)
}

fn has_zip64(extra: &[u8]) -> bool {
    let mut at = 0;
    while at + 4 <= extra.len() {
        if le16(extra, at) == 1 {
            return true;
        }
        at += 4 + le16(extra, at + 2) as usize;
    }
    false
}

/// Where an entry's data goes: its file (none for a directory), with its CRC-32 and size
/// kept as it passes.
struct EntrySink<'a> {
    file: Option<&'a mut std::fs::File>,
    dest: &'a Path,
    crc: crc32fast::Hasher,
    size: u64,
    /// Bytes the entries before this one unpacked to, and the most the archive may.
    before: u64,
    limit: u64,
}

impl EntrySink<'_> {
    /// The decompression bomb rules ([`ferry_types::limits`]), `read` bytes into the archive.
    fn within_limits(&self, read: u64) -> Result<(), DataError> {
        ferry_types::limits::check(self.before + self.size, read, self.limit)
            .map_err(DataError::Broken)
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), UnzipError> {
        self.crc.update(bytes);
        self.size += bytes.len() as u64;
        if let Some(file) = &mut self.file {
            file.write_all(bytes)
                .map_err(UnzipError::io("write", self.dest))?;
        }
        Ok(())
    }
}

/// An error in one entry's data, before its name is attached.
enum DataError {
    Broken(String),
    Other(UnzipError),
}

impl DataError {
    fn named(self, name: &str) -> UnzipError {
        match self {
            DataError::Broken(why) => UnzipError::Broken(format!("entry `{name}` {why}")),
            DataError::Other(err) => err,
        }
    }
}

impl From<UnzipError> for DataError {
    fn from(err: UnzipError) -> Self {
        DataError::Other(err)
    }
}

/// Copies a stored entry's `len` bytes; returns how many were read.
fn copy_stored<C: Chunks>(
    input: &mut Input<C>,
    len: u64,
    sink: &mut EntrySink<'_>,
) -> Result<u64, DataError> {
    let mut left = len;
    while left > 0 {
        let available = input.fill()?;
        if available.is_empty() {
            return Err(DataError::Broken("is cut short".into()));
        }
        let n = available
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        sink.write(&input.chunk[input.pos..input.pos + n])?;
        input.consume(n);
        sink.within_limits(input.offset)?;
        left -= n as u64;
    }
    Ok(len)
}

/// Inflates a deflated entry; `declared` is its (compressed, uncompressed) size from the
/// local header, or `None` when a data descriptor follows (the deflate stream then says where
/// it ends). Returns how many compressed bytes were read.
fn inflate<C: Chunks>(
    input: &mut Input<C>,
    inflater: &mut Decompress,
    declared: Option<(u64, u64)>,
    sink: &mut EntrySink<'_>,
    out: &mut [u8],
) -> Result<u64, DataError> {
    loop {
        let in_before = inflater.total_in();
        let available = input.fill()?;
        let limit = match declared {
            Some((compressed, _)) => available
                .len()
                .min(usize::try_from(compressed - in_before).unwrap_or(usize::MAX)),
            None => available.len(),
        };
        let out_before = inflater.total_out();
        let status = inflater
            .decompress(&available[..limit], out, FlushDecompress::None)
            .map_err(|e| DataError::Broken(format!("is corrupt: {e}")))?;
        let used = (inflater.total_in() - in_before) as usize;
        let made = (inflater.total_out() - out_before) as usize;
        input.consume(used);
        if made > 0 {
            if declared.is_some_and(|(_, size)| sink.size + made as u64 > size) {
                return Err(DataError::Broken(
                    "is larger than its header says".to_string(),
                ));
            }
            sink.write(&out[..made])?;
            sink.within_limits(input.offset)?;
        }
        if status == Status::StreamEnd {
            return Ok(inflater.total_in());
        }
        if used == 0 && made == 0 {
            return Err(DataError::Broken("is cut short or corrupt".into()));
        }
    }
}

/// Reads a data descriptor: (CRC-32, compressed size, uncompressed size).
fn read_descriptor<C: Chunks>(
    input: &mut Input<C>,
    zip64: bool,
) -> Result<(u32, u64, u64), UnzipError> {
    let first = u32::from_le_bytes(input.array::<4>()?);
    let crc = if first == DESCRIPTOR {
        u32::from_le_bytes(input.array::<4>()?)
    } else {
        first
    };
    if zip64 {
        let sizes = input.array::<16>()?;
        Ok((crc, le64(&sizes, 0), le64(&sizes, 8)))
    } else {
        let sizes = input.array::<8>()?;
        Ok((crc, u64::from(le32(&sizes, 0)), u64::from(le32(&sizes, 4))))
    }
}

/// Checks that the central directory (starting at archive offset `start`) lists exactly the
/// entries read, and takes each entry's unix mode from it.
fn check_central(
    central: &[u8],
    start: u64,
    locals: &[Local],
    entries: &mut [Unpacked],
) -> Result<(), UnzipError> {
    let disagree = |what: String| {
        UnzipError::Broken(format!(
            "its central directory disagrees with its entries: {what}"
        ))
    };
    let short = || UnzipError::Broken("its central directory is cut short".into());
    let mut at = 0;
    let mut count = 0usize;
    while central.len() >= at + 4 && le32(central, at) == CENTRAL {
        let fixed = central.get(at..at + 46).ok_or_else(short)?;
        let made_by = le16(fixed, 4);
        let flags = le16(fixed, 8);
        let method = le16(fixed, 10);
        let crc = le32(fixed, 16);
        let mut compressed = u64::from(le32(fixed, 20));
        let mut size = u64::from(le32(fixed, 24));
        let name_len = le16(fixed, 28) as usize;
        let extra_len = le16(fixed, 30) as usize;
        let comment_len = le16(fixed, 32) as usize;
        let external = le32(fixed, 38);
        let mut offset = u64::from(le32(fixed, 42));
        let name = central
            .get(at + 46..at + 46 + name_len)
            .ok_or_else(short)?
            .to_vec();
        let extra = central
            .get(at + 46 + name_len..at + 46 + name_len + extra_len)
            .ok_or_else(short)?;
        let wanted = [
            size == 0xFFFF_FFFF,
            compressed == 0xFFFF_FFFF,
            offset == 0xFFFF_FFFF,
        ];
        let values = zip64_values(extra, &wanted)?;
        size = values[0].unwrap_or(size);
        compressed = values[1].unwrap_or(compressed);
        offset = values[2].unwrap_or(offset);
        let name = entry_name(name, flags)?;
        let Some(local) = locals.get(count) else {
            return Err(disagree(format!(
                "it lists `{name}`, which is not in the archive"
            )));
        };
        if name != local.name {
            return Err(disagree(format!(
                "entry {} is `{}` but the directory says `{name}`",
                count + 1,
                local.name
            )));
        }
        if offset != local.offset
            || crc != local.crc
            || size != local.size
            || compressed != local.compressed
            || method != local.method
        {
            return Err(disagree(format!(
                "`{name}` has another offset, CRC, size or method"
            )));
        }
        if made_by >> 8 == 3 {
            entries[count].mode = Some(external >> 16);
        }
        count += 1;
        at += 46 + name_len + extra_len + comment_len;
    }
    if count != locals.len() {
        return Err(disagree(format!(
            "it lists {count} entries, the archive has {}",
            locals.len()
        )));
    }
    let central_size = at as u64;
    let mut zip64_counts = None;
    if central.len() >= at + 4 && le32(central, at) == ZIP64_END {
        let record = central.get(at..at + 56).ok_or_else(short)?;
        let record_size = le64(record, 4);
        zip64_counts = Some((le64(record, 32), le64(record, 40), le64(record, 48)));
        at = usize::try_from(record_size)
            .ok()
            .and_then(|size| at.checked_add(12)?.checked_add(size))
            .ok_or_else(short)?;
        if central.len() < at + 20 || le32(central, at) != ZIP64_LOCATOR {
            return Err(UnzipError::Broken(
                "its ZIP64 end record has no locator".into(),
            ));
        }
        at += 20;
    }
    let end = central
        .get(at..at + 22)
        .filter(|end| le32(end, 0) == END)
        .ok_or_else(|| UnzipError::Broken("it has no end of central directory record".into()))?;
    let (entries_total, size_field, offset_field) = match zip64_counts {
        Some(counts) => counts,
        None => (
            u64::from(le16(end, 10)),
            u64::from(le32(end, 12)),
            u64::from(le32(end, 16)),
        ),
    };
    if entries_total != count as u64 || size_field != central_size || offset_field != start {
        return Err(disagree(
            "its end record gives another entry count, size or offset".into(),
        ));
    }
    let comment_len = le16(end, 20) as usize;
    if central.len() != at + 22 + comment_len {
        return Err(UnzipError::Broken(
            "there are bytes after its end record".into(),
        ));
    }
    Ok(())
}

/// Unpacks a local archive by its central directory (the `zip` crate's reader), for what
/// [`unzip_stream`] cannot follow. Same checks on names, same result.
pub(crate) fn unzip_seekable<R: Read + std::io::Seek>(
    reader: R,
    dir: &Path,
) -> Result<Vec<Unpacked>, UnzipError> {
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|e| UnzipError::Broken(format!("it is not a zip archive: {e}")))?;
    let mut seen = HashSet::new();
    let mut folded: HashMap<String, String> = HashMap::new();
    let mut checked = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let entry = zip
            .by_index_raw(index)
            .map_err(|e| UnzipError::Broken(format!("entry {index}: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| UnzipError::Broken(format!("entry {index} has an unreadable name: {e}")))?
            .to_string();
        let relative = safe_relative(&name)
            .map_err(|why| UnzipError::Broken(format!("entry `{name}` {why}")))?;
        if !seen.insert(name.clone()) {
            return Err(UnzipError::Broken(format!("entry `{name}` appears twice")));
        }
        same_but_case(&mut folded, &name)
            .map_err(|why| UnzipError::Broken(format!("entry `{name}` {why}")))?;
        checked.push((relative, name, entry.is_dir(), entry.unix_mode()));
    }
    let mut entries = Vec::with_capacity(checked.len());
    let mut buffer = vec![0; CHUNK];
    let (mut unpacked, mut read, limit) = (0u64, 0u64, ferry_types::limits::max_unpacked());
    for (index, (relative, name, is_dir, mode)) in checked.into_iter().enumerate() {
        let dest = dir.join(&relative);
        if is_dir {
            std::fs::create_dir_all(&dest).map_err(UnzipError::io("create", &dest))?;
        } else {
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(UnzipError::io("create", parent))?;
            }
            let mut entry = zip
                .by_index(index)
                .map_err(|e| UnzipError::Broken(format!("entry `{name}`: {e}")))?;
            read += entry.compressed_size();
            let mut file = create_file(&dest, false).map_err(UnzipError::io("write", &dest))?;
            let mut sink = EntrySink {
                file: Some(&mut file),
                dest: &dest,
                crc: crc32fast::Hasher::new(),
                size: 0,
                before: unpacked,
                limit,
            };
            loop {
                match entry.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => {
                        sink.write(&buffer[..n])?;
                        sink.within_limits(read).map_err(|e| e.named(&name))?;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        return Err(UnzipError::Broken(format!(
                            "entry `{name}` is corrupt: {e}"
                        )))
                    }
                }
            }
            unpacked += sink.size;
            entries.push(Unpacked {
                name: row_name(&relative),
                relative,
                is_dir,
                size: sink.size,
                mode,
            });
            continue;
        }
        entries.push(Unpacked {
            name: row_name(&relative),
            relative,
            is_dir,
            size: 0,
            mode,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;

    fn options(method: CompressionMethod) -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(method)
    }

    /// A small archive: a directory, a deflated file, a stored executable, a large deflated
    /// file, and one with ZIP64 sizes in its local header.
    fn archive() -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        zip.add_directory("pkg/", options(CompressionMethod::Stored))
            .unwrap();
        zip.start_file("pkg/__init__.py", options(CompressionMethod::Deflated))
            .unwrap();
        zip.write_all(b"print('hello')\n").unwrap();
        zip.start_file(
            "pkg/tool.sh",
            options(CompressionMethod::Stored).unix_permissions(0o755),
        )
        .unwrap();
        zip.write_all(b"#!/bin/sh\necho hi\n").unwrap();
        zip.start_file("pkg/big.txt", options(CompressionMethod::Deflated))
            .unwrap();
        for line in 0..50_000 {
            writeln!(zip, "line {line} of a file larger than one chunk").unwrap();
        }
        zip.start_file(
            "pkg/zip64.bin",
            options(CompressionMethod::Deflated).large_file(true),
        )
        .unwrap();
        zip.write_all(&[7u8; 100_000]).unwrap();
        zip.finish().unwrap().into_inner()
    }

    /// Feeds `bytes` in pieces of `piece` bytes, as a download would.
    struct Pieces(Vec<u8>, usize, usize);
    impl Chunks for Pieces {
        fn next_chunk(&mut self, _: Vec<u8>) -> std::io::Result<Option<Vec<u8>>> {
            if self.2 >= self.0.len() {
                return Ok(None);
            }
            let end = (self.2 + self.1).min(self.0.len());
            let chunk = self.0[self.2..end].to_vec();
            self.2 = end;
            Ok(Some(chunk))
        }
    }

    fn stream(
        bytes: &[u8],
        piece: usize,
    ) -> (tempfile::TempDir, Result<Vec<Unpacked>, UnzipError>) {
        let dir = tempfile::tempdir().unwrap();
        let result = unzip_stream(Pieces(bytes.to_vec(), piece, 0), dir.path());
        (dir, result)
    }

    fn broken(result: Result<Vec<Unpacked>, UnzipError>) -> String {
        match result {
            Err(UnzipError::Broken(why)) => why,
            Err(UnzipError::Unsupported(why)) => panic!("unsupported, not broken: {why}"),
            Err(UnzipError::Io { source, .. }) => panic!("i/o error: {source}"),
            Ok(_) => panic!("unpacked"),
        }
    }

    #[test]
    fn stream_and_central_directory_give_the_same_files() {
        let bytes = archive();
        for piece in [1, 7, 4096, 1 << 20] {
            let (dir, result) = stream(&bytes, piece);
            let entries = result.unwrap_or_else(|e| panic!("piece {piece}: {e:?}"));
            let seekable_dir = tempfile::tempdir().unwrap();
            let by_directory = unzip_seekable(Cursor::new(&bytes), seekable_dir.path())
                .unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(entries.len(), 5);
            assert_eq!(entries.len(), by_directory.len());
            for (a, b) in entries.iter().zip(&by_directory) {
                assert_eq!((&a.name, a.is_dir, a.size), (&b.name, b.is_dir, b.size));
                assert_eq!(a.mode.map(|m| m & 0o777), b.mode.map(|m| m & 0o777));
                if !a.is_dir {
                    assert_eq!(
                        std::fs::read(dir.path().join(&a.relative)).unwrap(),
                        std::fs::read(seekable_dir.path().join(&b.relative)).unwrap()
                    );
                }
            }
            let tool = entries.iter().find(|e| e.name == "pkg/tool.sh").unwrap();
            assert_eq!(tool.mode.map(|m| m & 0o777), Some(0o755));
            assert_eq!(entries[0].name, "pkg");
            assert!(entries[0].is_dir);
        }
    }

    #[test]
    fn data_descriptors_are_followed() {
        let mut zip = zip::ZipWriter::new_stream(Vec::new());
        zip.start_file("a/one.py", options(CompressionMethod::Deflated))
            .unwrap();
        zip.write_all(&b"x = 1\n".repeat(10_000)).unwrap();
        zip.start_file("a/two.py", options(CompressionMethod::Deflated))
            .unwrap();
        zip.write_all(b"y = 2\n").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        assert_ne!(
            u16::from_le_bytes([bytes[6], bytes[7]]) & 8,
            0,
            "no descriptor"
        );
        let (dir, result) = stream(&bytes, 1000);
        let entries = result.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(entries.len(), 2);
        assert_eq!(
            std::fs::read(dir.path().join("a/two.py")).unwrap(),
            b"y = 2\n"
        );
        assert_eq!(entries[0].size, 60_000);
    }

    #[test]
    fn what_the_stream_cannot_follow_is_unsupported() {
        let mut prefixed = b"#!/bin/sh\nexec python \"$0\"\n".to_vec();
        prefixed.extend(archive());
        let (_dir, result) = stream(&prefixed, 4096);
        assert!(
            matches!(result, Err(UnzipError::Unsupported(_))),
            "{result:?}"
        );

        let mut zip = zip::ZipWriter::new_stream(Vec::new());
        zip.start_file("stored.txt", options(CompressionMethod::Stored))
            .unwrap();
        zip.write_all(b"abc").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        if u16::from_le_bytes([bytes[6], bytes[7]]) & 8 != 0 {
            let (_dir, result) = stream(&bytes, 4096);
            assert!(
                matches!(result, Err(UnzipError::Unsupported(_))),
                "{result:?}"
            );
        }
    }

    /// Every place `needle` occurs in `haystack`.
    fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
        (0..=haystack.len() - needle.len())
            .filter(|&i| &haystack[i..i + needle.len()] == needle)
            .collect()
    }

    #[test]
    fn a_central_directory_that_disagrees_is_refused() {
        let bytes = archive();
        // The name appears in its local header, then in the central directory.
        let places = find_all(&bytes, b"pkg/__init__.py");
        assert_eq!(places.len(), 2);
        let mut renamed = bytes.clone();
        renamed[places[1] + 4] = b'X';
        let why = broken(stream(&renamed, 4096).1);
        assert!(why.contains("central directory disagrees"), "{why}");

        let mut renamed = bytes;
        renamed[places[0] + 4] = b'X';
        let why = broken(stream(&renamed, 4096).1);
        assert!(why.contains("central directory disagrees"), "{why}");
    }

    #[test]
    fn corrupt_and_cut_short_archives_are_refused() {
        let bytes = archive();
        let body = find_all(&bytes, b"echo hi")[0];
        let mut flipped = bytes.clone();
        flipped[body] = b'E';
        let why = broken(stream(&flipped, 4096).1);
        assert!(
            why.contains("pkg/tool.sh") && why.contains("CRC-32"),
            "{why}"
        );

        for cut in [10, 100, bytes.len() / 2, bytes.len() - 10] {
            let why = broken(stream(&bytes[..cut], 4096).1);
            assert!(!why.is_empty());
        }
        let mut trailing = bytes;
        trailing.extend_from_slice(b"junk");
        let why = broken(stream(&trailing, 4096).1);
        assert!(why.contains("after its end record"), "{why}");
    }

    #[test]
    fn unsafe_and_repeated_names_are_refused() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for name in ["pkg/aa.py", "pkg/bb.py"] {
            zip.start_file(name, options(CompressionMethod::Stored))
                .unwrap();
            zip.write_all(b"same").unwrap();
        }
        let bytes = zip.finish().unwrap().into_inner();
        // Rename the second entry to the first's name, in its local header and directory.
        let mut twice = bytes.clone();
        for at in find_all(&bytes, b"pkg/bb.py") {
            twice[at + 4..at + 6].copy_from_slice(b"aa");
        }
        let why = broken(stream(&twice, 4096).1);
        assert!(why.contains("appears twice"), "{why}");

        let mut climbing = bytes.clone();
        for at in find_all(&bytes, b"pkg/bb.py") {
            climbing[at..at + 9].copy_from_slice(b"../evil.p");
        }
        let why = broken(stream(&climbing, 4096).1);
        assert!(why.contains("climbs out"), "{why}");
    }
}
