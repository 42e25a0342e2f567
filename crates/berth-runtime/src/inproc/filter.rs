//! The in-process runtime's seccomp filter: the bundle's `linux.seccomp` compiled as runc
//! compiles it, and loaded in the container's process (its init, or an exec'd process) just
//! before it execs the command.
//!
//! libcontainer's own seccomp set-up is not used, for three differences from runc that change
//! what a container may do:
//!
//! * it passes a masked comparison's operands to libseccomp the other way round, so Docker's
//!   `clone` rule (allowed only when `flags & CLONE_NEW* == 0`) never matches and the profile's
//!   intent is lost (`clone(CLONE_NEWUSER)` succeeded);
//! * it gives a syscall newer than every syscall the profile names the profile's default action
//!   (EPERM), where runc answers ENOSYS so that programs fall back to the older call (glibc's
//!   `clone3` → `clone`);
//! * it drops the filter of a process exec'd into a running container (its "tenant" spec keeps
//!   no `linux.seccomp`), so `docker exec` ran unconfined.
//!
//! So [`Filter::compile`] builds the filter with libseccomp and exports its BPF, in front of
//! which goes a short stub of our own (the only hand-written part, it being runc's behaviour and
//! not libseccomp's): per architecture, a syscall number above the highest one the profile
//! names returns ENOSYS. [`Filter::load`] installs it with `seccomp(2)`.
//!
//! Compiling takes libseccomp several milliseconds (a fifth of a container's create on this
//! machine), for the same profile every time, so [`Filter::cached`] keeps each compiled filter
//! in a cache directory, named by the digest of everything the result depends on: the profile,
//! the libseccomp version, the kernel, the native architecture and this berth executable. An
//! entry carries its own checksum; one that does not verify is compiled again.
//!
//! Loading a filter needs CAP_SYS_ADMIN or no_new_privs. The command is exec'd after
//! libcontainer has dropped the process's capabilities, so when no_new_privs is not set the
//! process is given CAP_SYS_ADMIN and CAP_SETPCAP until the filter is loaded
//! ([`with_loading_caps`]), after which its capabilities are set to what the bundle says
//! ([`Filter::load`]), as runc loads the filter before it drops them.

use std::io::{Read, Seek};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::Path;

use sha2::{Digest as _, Sha256};

use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
};
use oci_spec::runtime::{
    Arch, Capability, LinuxCapabilities, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag,
    LinuxSeccompOperator,
};

/// A compiled filter, ready to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    /// The BPF program, the ENOSYS stub first.
    program: Vec<(u16, u8, u8, u32)>,
    /// `SECCOMP_FILTER_FLAG_*` for `seccomp(2)`.
    flags: libc::c_ulong,
}

/// Why a profile cannot be compiled or loaded.
pub(crate) type FilterError = String;

/// The bit the kernel sets in the syscall number of an x32 call (made with AUDIT_ARCH_X86_64).
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;
const AUDIT_ARCH_ARM: u32 = 0x4000_0028;
/// Offsets in `struct seccomp_data`.
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;

/// Whether the in-process runtime loads this section itself: everything but a notify
/// listener, which stays with libcontainer (it hands the listener's descriptor over).
pub(crate) fn handled_here(s: &LinuxSeccomp) -> bool {
    s.listener_path().is_none()
        && !s
            .syscalls()
            .iter()
            .flatten()
            .any(|r| r.action() == LinuxSeccompAction::ScmpActNotify)
}

fn action(a: LinuxSeccompAction, errno: Option<u32>) -> Result<ScmpAction, FilterError> {
    let errno = errno.map(|e| e as i32).unwrap_or(libc::EPERM);
    Ok(match a {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno),
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(
            u16::try_from(errno).map_err(|_| format!("invalid trace return code {errno}"))?,
        ),
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
        LinuxSeccompAction::ScmpActNotify => {
            return Err("SCMP_ACT_NOTIFY is not supported here".into())
        }
    })
}

fn arch(a: Arch) -> ScmpArch {
    match a {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}

/// A comparison as runc makes it: for a masked comparison `value` is the mask and `valueTwo`
/// the value the masked argument must equal.
fn compare(index: usize, op: LinuxSeccompOperator, value: u64, two: u64) -> ScmpArgCompare {
    let op = match op {
        LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
        LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
        LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
        LinuxSeccompOperator::ScmpCmpEq => ScmpCompareOp::Equal,
        LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
        LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
        LinuxSeccompOperator::ScmpCmpMaskedEq => {
            return ScmpArgCompare::new(index as u32, ScmpCompareOp::MaskedEqual(value), two)
        }
    };
    ScmpArgCompare::new(index as u32, op, value)
}

impl Filter {
    /// The filter for `s`, as runc would load it on this machine.
    pub(crate) fn compile(s: &LinuxSeccomp) -> Result<Filter, FilterError> {
        let lib = |what: &str, e: libseccomp::error::SeccompError| format!("seccomp: {what}: {e}");
        let default = action(s.default_action(), s.default_errno_ret())?;
        let mut ctx = ScmpFilterContext::new(default).map_err(|e| lib("new filter", e))?;
        let mut arches = vec![ScmpArch::native()];
        for a in s.architectures().iter().flatten().map(|a| arch(*a)) {
            let a = if a == ScmpArch::Native {
                ScmpArch::native()
            } else {
                a
            };
            if !ctx.is_arch_present(a).map_err(|e| lib("arch", e))? {
                ctx.add_arch(a).map_err(|e| lib("add arch", e))?;
            }
            if !arches.contains(&a) {
                arches.push(a);
            }
        }
        let mut flags: libc::c_ulong = 0;
        for f in s.flags().iter().flatten() {
            flags |= match f {
                LinuxSeccompFilterFlag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
                LinuxSeccompFilterFlag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
                LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => {
                    libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
                }
                LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => {
                    libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
                }
            };
        }
        // The highest syscall number the profile names, per architecture: above it, ENOSYS.
        let mut highest: Vec<(ScmpArch, u32)> = arches.iter().map(|a| (*a, 0)).collect();
        for rule in s.syscalls().iter().flatten() {
            for name in rule.names() {
                for (a, max) in highest.iter_mut() {
                    if let Ok(sc) = ScmpSyscall::from_name_by_arch(name, *a) {
                        let nr = sc.as_raw_syscall();
                        if nr >= 0 {
                            let mut nr = nr as u32;
                            if *a == ScmpArch::X32 {
                                nr |= X32_SYSCALL_BIT;
                            }
                            *max = (*max).max(nr);
                        }
                    }
                }
            }
            let act = action(rule.action(), rule.errno_ret())?;
            if act == default {
                continue;
            }
            for name in rule.names() {
                // A name libseccomp does not know is one this kernel has not either.
                let Ok(sc) = ScmpSyscall::from_name(name) else {
                    continue;
                };
                let args: Vec<ScmpArgCompare> = rule
                    .args()
                    .iter()
                    .flatten()
                    .map(|a| compare(a.index(), a.op(), a.value(), a.value_two().unwrap_or(0)))
                    .collect();
                let mut indexes: Vec<usize> =
                    rule.args().iter().flatten().map(|a| a.index()).collect();
                indexes.sort_unstable();
                let repeated = indexes.windows(2).any(|w| w[0] == w[1]);
                let add = |ctx: &mut ScmpFilterContext, cmp: &[ScmpArgCompare]| {
                    if cmp.is_empty() {
                        ctx.add_rule(act, sc)
                    } else {
                        ctx.add_rule_conditional(act, sc, cmp)
                    }
                    .map(drop)
                    .map_err(|e| lib(&format!("rule for {name}"), e))
                };
                if repeated {
                    // One argument compared twice: libseccomp takes each as a rule of its own.
                    for c in &args {
                        add(&mut ctx, std::slice::from_ref(c))?;
                    }
                } else {
                    add(&mut ctx, &args)?;
                }
            }
        }
        let program = export(&ctx)?;
        let stub = match default {
            ScmpAction::Allow | ScmpAction::Log => Vec::new(),
            _ => enosys_stub(&highest),
        };
        let program: Vec<_> = stub.into_iter().chain(program).collect();
        if program.len() > libc::BPF_MAXINSNS as usize {
            return Err(format!(
                "seccomp: the filter has {} instructions, more than the kernel's {}",
                program.len(),
                libc::BPF_MAXINSNS
            ));
        }
        Ok(Filter { program, flags })
    }

    /// [`Filter::compile`] through the cache in `dir` (see the module's comment): the filter
    /// compiled before for the same profile on the same machine and berth, else compiled now
    /// and kept. The cache only saves time: when it cannot be read or written, the filter is
    /// compiled as without it.
    pub(crate) fn cached(s: &LinuxSeccomp, dir: &Path) -> Result<Filter, FilterError> {
        let Some(key) = cache_key(s) else {
            return Filter::compile(s);
        };
        let path = dir.join(&key);
        if let Some(f) = std::fs::read(&path).ok().and_then(|b| Filter::decode(&b)) {
            return Ok(f);
        }
        let f = Filter::compile(s)?;
        if let Err(e) = store(dir, &key, &f.encode()) {
            log::debug!("seccomp: not cached in {}: {e}", dir.display());
        }
        Ok(f)
    }

    /// The cached form: flags (u64), instruction count (u32), the instructions (8 bytes each,
    /// in this machine's layout, as the kernel takes them), then the SHA-256 of all that. The
    /// counts are little-endian; the cache key names the architecture, so entries never travel.
    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(12 + self.program.len() * 8 + 32);
        #[allow(clippy::unnecessary_cast)] // c_ulong is 32 bits on 32-bit targets
        b.extend_from_slice(&(self.flags as u64).to_le_bytes());
        b.extend_from_slice(&(self.program.len() as u32).to_le_bytes());
        for &(code, jt, jf, k) in &self.program {
            b.extend_from_slice(&code.to_ne_bytes());
            b.extend_from_slice(&[jt, jf]);
            b.extend_from_slice(&k.to_ne_bytes());
        }
        let sum = Sha256::digest(&b);
        b.extend_from_slice(&sum);
        b
    }

    /// The filter [`Filter::encode`] wrote, or `None` for anything else (a torn or foreign
    /// file).
    fn decode(b: &[u8]) -> Option<Filter> {
        let (body, sum) = b.split_at_checked(b.len().checked_sub(32)?)?;
        if Sha256::digest(body).as_slice() != sum || body.len() < 12 {
            return None;
        }
        let flags = u64::from_le_bytes(body[..8].try_into().ok()?);
        let n = u32::from_le_bytes(body[8..12].try_into().ok()?) as usize;
        let code = &body[12..];
        if code.len() != n.checked_mul(8)? || n == 0 || n > libc::BPF_MAXINSNS as usize {
            return None;
        }
        Some(Filter {
            program: instructions(code),
            flags: libc::c_ulong::try_from(flags).ok()?,
        })
    }

    /// Installs the filter in the calling process, then sets its capabilities to `caps` if
    /// given (see [`with_loading_caps`]). Runs in the container's process just before exec.
    pub(crate) fn load(&self, caps: Option<&LinuxCapabilities>) -> Result<(), String> {
        let code: Vec<libc::sock_filter> = self
            .program
            .iter()
            .map(|&(code, jt, jf, k)| libc::sock_filter { code, jt, jf, k })
            .collect();
        let prog = libc::sock_fprog {
            len: code.len() as u16,
            filter: code.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: `prog` points at `code`, alive for the call; seccomp(2) copies the program.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                self.flags,
                &prog as *const libc::sock_fprog,
            )
        };
        if rc != 0 {
            return Err(format!(
                "unable to init seccomp: error loading seccomp filter into kernel: {}",
                std::io::Error::last_os_error()
            ));
        }
        if let Some(caps) = caps {
            let sys = libcontainer::syscall::syscall::SyscallType::default().create_syscall();
            libcontainer::capabilities::drop_privileges(caps, sys.as_ref())
                .map_err(|e| format!("unable to apply caps: {e}"))?;
        }
        Ok(())
    }
}

/// The cache entry's name for `s`: the SHA-256 of the profile and of everything else the
/// compiled filter depends on (libseccomp's version, the kernel it asks about features, the
/// native architecture, and this executable, whose code [`Filter::compile`] is). `None` when
/// one of them cannot be known: then nothing is cached.
fn cache_key(s: &LinuxSeccomp) -> Option<String> {
    let v = libseccomp::ScmpVersion::current().ok()?;
    let exe = std::fs::metadata("/proc/self/exe").ok()?;
    let uname = rustix::system::uname();
    let mut h = Sha256::new();
    h.update(b"berth seccomp filter 1\n");
    h.update(format!("libseccomp {}.{}.{}\n", v.major, v.minor, v.micro));
    h.update(uname.release().to_bytes());
    h.update(b"\n");
    h.update(uname.version().to_bytes());
    h.update(format!("\n{:?}\n", ScmpArch::native()));
    h.update(format!(
        "exe {} {} {} {}.{}\n",
        exe.dev(),
        exe.ino(),
        exe.size(),
        exe.mtime(),
        exe.mtime_nsec()
    ));
    h.update(serde_json::to_vec(s).ok()?);
    Some(hex::encode(h.finalize()))
}

/// How many entries the cache keeps: past it, a new entry replaces all the others (every
/// profile in use is compiled again once, on its next use).
const CACHE_ENTRIES: usize = 64;

/// Writes `bytes` as the entry `key` in `dir`, whole or not at all (a temporary file renamed
/// into place). No fsync: a torn entry fails its checksum and is compiled again.
fn store(dir: &Path, key: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let tmp = dir.join(format!(".tmp-{}-{key}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    if let Err(e) = std::fs::rename(&tmp, dir.join(key)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let names: Vec<_> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_str().is_some_and(|n| !n.starts_with('.')))
        .collect();
    if names.len() > CACHE_ENTRIES {
        for n in names.iter().filter(|n| n.to_str() != Some(key)) {
            let _ = std::fs::remove_file(dir.join(n));
        }
    }
    Ok(())
}

/// libseccomp's BPF for `ctx`, as (code, jt, jf, k) instructions.
fn export(ctx: &ScmpFilterContext) -> Result<Vec<(u16, u8, u8, u32)>, FilterError> {
    let io = |e: std::io::Error| format!("seccomp: exporting the filter: {e}");
    // SAFETY: memfd_create returns a new descriptor (or -1), owned from here on.
    let fd = unsafe { libc::memfd_create(c"berth-seccomp".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io(std::io::Error::last_os_error()));
    }
    // SAFETY: `fd` was just created and is not owned elsewhere.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    ctx.export_bpf(fd.as_fd())
        .map_err(|e| format!("seccomp: exporting the filter: {e}"))?;
    let mut file = std::fs::File::from(fd);
    file.rewind().map_err(io)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io)?;
    Ok(instructions(&bytes))
}

/// `struct sock_filter`s in this machine's layout (8 bytes each: code, jt, jf, k), as libseccomp
/// exports them and the cache stores them, as (code, jt, jf, k) instructions.
fn instructions(bytes: &[u8]) -> Vec<(u16, u8, u8, u32)> {
    bytes
        .chunks_exact(8)
        .map(|i| {
            (
                u16::from_ne_bytes([i[0], i[1]]),
                i[2],
                i[3],
                u32::from_ne_bytes([i[4], i[5], i[6], i[7]]),
            )
        })
        .collect()
}

/// Instructions that answer ENOSYS for a syscall numbered above the highest the profile names
/// on its architecture, and fall through to the filter after them otherwise.
fn enosys_stub(highest: &[(ScmpArch, u32)]) -> Vec<(u16, u8, u8, u32)> {
    const LD_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const JGT: u16 = (libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K) as u16;
    const JSET: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;
    const JA: u16 = (libc::BPF_JMP | libc::BPF_JA) as u16;
    const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    let max = |a: ScmpArch| {
        highest
            .iter()
            .find(|(x, _)| *x == a)
            .map(|(_, m)| *m)
            .filter(|m| *m > 0)
    };
    // Per audit architecture: the checks on the syscall number, each (bit, limit): the limit
    // applies to numbers with that bit set (x32's), or to all the others.
    type Checks = Vec<(Option<u32>, u32)>;
    let mut blocks: Vec<(u32, Checks)> = Vec::new();
    if let Some(m) = max(ScmpArch::X8664) {
        let mut checks = Vec::new();
        // An x32 call shares x86-64's audit architecture and carries the x32 bit.
        match max(ScmpArch::X32) {
            Some(x) => checks.push((Some(X32_SYSCALL_BIT), x)),
            None => checks.push((Some(X32_SYSCALL_BIT), u32::MAX)),
        }
        checks.push((None, m));
        blocks.push((AUDIT_ARCH_X86_64, checks));
    }
    for (a, audit) in [
        (ScmpArch::X86, AUDIT_ARCH_I386),
        (ScmpArch::Aarch64, AUDIT_ARCH_AARCH64),
        (ScmpArch::Arm, AUDIT_ARCH_ARM),
    ] {
        if let Some(m) = max(a) {
            blocks.push((audit, vec![(None, m)]));
        }
    }
    if blocks.is_empty() {
        return Vec::new();
    }
    // Symbolic jumps, resolved once the layout is known.
    #[derive(Clone, Copy)]
    enum To {
        Next,
        Enosys,
        Filter,
        Skip(u8),
    }
    let mut code: Vec<(u16, To, To, u32)> = vec![(LD_ABS, To::Next, To::Next, DATA_ARCH)];
    for (audit, checks) in &blocks {
        // jeq arch; ld nr; per check: [jset bit → its jgt] jgt limit; a check with a bit
        // takes 2 instructions, one without 1.
        let body: u8 = 1 + checks
            .iter()
            .map(|(bit, _)| if bit.is_some() { 2 } else { 1 })
            .sum::<u8>();
        code.push((JEQ, To::Next, To::Skip(body), *audit));
        code.push((LD_ABS, To::Next, To::Next, DATA_NR));
        let bits = checks.iter().filter(|(b, _)| b.is_some()).count();
        for (i, (bit, limit)) in checks.iter().enumerate() {
            match bit {
                Some(bit) => {
                    // Not set: skip this check's jgt (and the jset of any later bit check).
                    let later = (bits - 1 - i) as u8;
                    code.push((JSET, To::Next, To::Skip(1 + later), *bit));
                    code.push((JGT, To::Enosys, To::Filter, *limit));
                }
                None => code.push((JGT, To::Enosys, To::Filter, *limit)),
            }
        }
    }
    code.push((JA, To::Next, To::Next, 1)); // no architecture matched: to the filter
    let enosys = code.len();
    code.push((
        RET,
        To::Next,
        To::Next,
        libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
    ));
    let filter = code.len();
    code.iter()
        .enumerate()
        .map(|(pc, &(op, jt, jf, k))| {
            let off = |to: To| -> u8 {
                match to {
                    To::Next => 0,
                    To::Skip(n) => n,
                    To::Enosys => (enosys - pc - 1) as u8,
                    To::Filter => (filter - pc - 1) as u8,
                }
            };
            (op, off(jt), off(jf), k)
        })
        .collect()
}

/// The capabilities the process needs until it has loaded the filter, and the ones it gets
/// afterwards: `None` when it already can load it (no_new_privs, or the bundle gives it
/// CAP_SYS_ADMIN and CAP_SETPCAP). The first set goes in the spec libcontainer applies; the
/// second is what [`Filter::load`] sets after loading.
pub(crate) fn with_loading_caps(
    caps: Option<&LinuxCapabilities>,
    no_new_privileges: bool,
) -> Option<(LinuxCapabilities, LinuxCapabilities)> {
    if no_new_privileges {
        return None;
    }
    let caps = caps?;
    let needed = [Capability::SysAdmin, Capability::Setpcap];
    let has_all = |set: &Option<oci_spec::runtime::Capabilities>| {
        set.as_ref()
            .is_some_and(|s| needed.iter().all(|c| s.contains(c)))
    };
    if has_all(caps.bounding()) && has_all(caps.effective()) && has_all(caps.permitted()) {
        return None;
    }
    let add = |set: &Option<oci_spec::runtime::Capabilities>| {
        let mut s = set.clone().unwrap_or_default();
        s.extend(needed);
        Some(s)
    };
    let mut loading = caps.clone();
    loading
        .set_bounding(add(caps.bounding()))
        .set_effective(add(caps.effective()))
        .set_permitted(add(caps.permitted()));
    Some((loading, caps.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{LinuxSeccompArgBuilder, LinuxSyscallBuilder};

    fn profile(
        default: LinuxSeccompAction,
        rules: Vec<oci_spec::runtime::LinuxSyscall>,
    ) -> LinuxSeccomp {
        let mut s = LinuxSeccomp::default();
        s.set_default_action(default)
            .set_architectures(Some(vec![
                Arch::ScmpArchX86_64,
                Arch::ScmpArchX86,
                Arch::ScmpArchX32,
            ]))
            .set_syscalls(Some(rules));
        s
    }

    #[test]
    fn the_enosys_stub_jumps_to_the_filter_or_answers_enosys() {
        let stub = enosys_stub(&[
            (ScmpArch::X8664, 440),
            (ScmpArch::X86, 450),
            (ScmpArch::X32, X32_SYSCALL_BIT | 400),
        ]);
        // Interpret the stub for (arch, nr): Some(errno) or None (on to the filter).
        let run = |arch: u32, nr: u32| -> Option<u32> {
            let (mut pc, mut acc) = (0usize, 0u32);
            loop {
                if pc == stub.len() {
                    return None;
                }
                let (op, jt, jf, k) = stub[pc];
                let op = op as u32;
                match op & 0x07 {
                    0x00 => acc = if k == DATA_ARCH { arch } else { nr },
                    0x06 => return Some(k & 0xffff),
                    0x05 => {
                        let taken = match op & 0xf0 {
                            0x00 => {
                                pc += k as usize + 1;
                                continue;
                            }
                            0x10 => acc == k,
                            0x20 => acc > k,
                            0x40 => acc & k != 0,
                            _ => unreachable!(),
                        };
                        pc += 1 + (if taken { jt } else { jf }) as usize;
                        continue;
                    }
                    _ => unreachable!(),
                }
                pc += 1;
            }
        };
        let enosys = Some(libc::ENOSYS as u32);
        assert_eq!(run(AUDIT_ARCH_X86_64, 1000), enosys);
        assert_eq!(run(AUDIT_ARCH_X86_64, 440), None);
        assert_eq!(run(AUDIT_ARCH_X86_64, 0), None);
        assert_eq!(run(AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 401), enosys);
        assert_eq!(run(AUDIT_ARCH_X86_64, X32_SYSCALL_BIT | 10), None);
        assert_eq!(run(AUDIT_ARCH_I386, 451), enosys);
        assert_eq!(run(AUDIT_ARCH_I386, 445), None);
        assert_eq!(run(AUDIT_ARCH_AARCH64, 5000), None);
    }

    #[test]
    fn profiles_compile_and_masked_comparisons_take_runcs_operands() {
        let clone = LinuxSyscallBuilder::default()
            .names(vec!["clone".to_string()])
            .action(LinuxSeccompAction::ScmpActAllow)
            .args(vec![LinuxSeccompArgBuilder::default()
                .index(0usize)
                .value(0x7E02_0000u64)
                .op(LinuxSeccompOperator::ScmpCmpMaskedEq)
                .build()
                .unwrap()])
            .build()
            .unwrap();
        let read = LinuxSyscallBuilder::default()
            .names(vec!["read".to_string(), "no_such_syscall".to_string()])
            .action(LinuxSeccompAction::ScmpActAllow)
            .build()
            .unwrap();
        let f = Filter::compile(&profile(
            LinuxSeccompAction::ScmpActErrno,
            vec![clone, read],
        ))
        .unwrap();
        // The stub answers ENOSYS; nothing in the profile does.
        let enosys = |f: &Filter| {
            f.program
                .iter()
                .any(|i| i.3 == libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32)
        };
        assert!(enosys(&f));
        // The comparison: mask is `value`, the masked argument must equal `valueTwo` (0).
        let c = compare(0, LinuxSeccompOperator::ScmpCmpMaskedEq, 0x7E02_0000, 0);
        assert_eq!(
            c,
            ScmpArgCompare::new(0, ScmpCompareOp::MaskedEqual(0x7E02_0000), 0)
        );
        // An allow-by-default profile gets no stub.
        let allow = Filter::compile(&profile(LinuxSeccompAction::ScmpActAllow, vec![])).unwrap();
        assert!(!enosys(&allow));
    }

    #[test]
    fn the_cache_gives_back_what_was_compiled_and_refuses_damaged_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let read = LinuxSyscallBuilder::default()
            .names(vec!["read".to_string(), "clone".to_string()])
            .action(LinuxSeccompAction::ScmpActAllow)
            .build()
            .unwrap();
        let p = profile(LinuxSeccompAction::ScmpActErrno, vec![read]);
        let compiled = Filter::compile(&p).unwrap();
        assert_eq!(Filter::cached(&p, &cache).unwrap(), compiled);
        let entries: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().collect();
        assert_eq!(entries.len(), 1, "one entry, no temporary file left");
        let entry = entries[0].path();
        assert_eq!(
            Filter::decode(&std::fs::read(&entry).unwrap()),
            Some(compiled.clone())
        );
        // An entry is what is loaded next time: a different (valid) one under the same name is
        // taken as it is, so the key must cover everything the filter depends on.
        let other = Filter::compile(&profile(LinuxSeccompAction::ScmpActAllow, vec![])).unwrap();
        std::fs::write(&entry, other.encode()).unwrap();
        assert_eq!(Filter::cached(&p, &cache).unwrap(), other);
        // A damaged entry is compiled again and replaced.
        let mut torn = compiled.encode();
        torn[14] ^= 1;
        std::fs::write(&entry, &torn).unwrap();
        assert_eq!(Filter::cached(&p, &cache).unwrap(), compiled);
        assert_eq!(
            Filter::decode(&std::fs::read(&entry).unwrap()),
            Some(compiled.clone())
        );
        std::fs::write(&entry, &torn[..torn.len() / 2]).unwrap();
        assert_eq!(Filter::cached(&p, &cache).unwrap(), compiled);
        // Another profile is another entry.
        let q = profile(LinuxSeccompAction::ScmpActKillProcess, vec![]);
        assert_ne!(cache_key(&p), cache_key(&q));
        Filter::cached(&q, &cache).unwrap();
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 2);
    }

    #[test]
    fn loading_caps_are_added_only_when_needed() {
        let mut caps = LinuxCapabilities::default();
        let chown: oci_spec::runtime::Capabilities = [Capability::Chown].into_iter().collect();
        caps.set_bounding(Some(chown.clone()))
            .set_effective(Some(chown.clone()))
            .set_permitted(Some(chown.clone()));
        assert!(with_loading_caps(Some(&caps), true).is_none());
        assert!(with_loading_caps(None, false).is_none());
        let (loading, after) = with_loading_caps(Some(&caps), false).unwrap();
        assert_eq!(after, caps);
        let eff = loading.effective().clone().unwrap();
        assert!(eff.contains(&Capability::SysAdmin) && eff.contains(&Capability::Chown));
        assert!(with_loading_caps(Some(&loading), false).is_none());
    }
}
