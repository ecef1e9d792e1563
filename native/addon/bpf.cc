// The cgroup v2 device filter: loading a BPF_PROG_TYPE_CGROUP_DEVICE program (assembled in
// TypeScript, lib/cgroups/devfilter.ts) and attaching it to a cgroup directory, replacing
// the one attached before, as runc's libcontainer/cgroups/devices/ebpf_linux.go does.
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "errors.h"

namespace {

long Bpf(int cmd, union bpf_attr *attr) {
  long r;
  do r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));
  while (r < 0 && errno == EINTR);
  return r;
}

// The ids of the device programs attached to the cgroup behind dirfd (at most 64 can be).
bool QueryDevicePrograms(int dirfd, std::vector<uint32_t> &ids) {
  ids.assign(64, 0);
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.query.target_fd = dirfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
  attr.query.prog_cnt = ids.size();
  if (Bpf(BPF_PROG_QUERY, &attr) < 0) return false;
  ids.resize(attr.query.prog_cnt);
  return true;
}

int ProgFdById(uint32_t id) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_id = id;
  return Bpf(BPF_PROG_GET_FD_BY_ID, &attr);
}

int Attach(int dirfd, int progfd, uint32_t flags, int replacefd) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = dirfd;
  attr.attach_bpf_fd = progfd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = flags;
  attr.replace_bpf_fd = replacefd < 0 ? 0 : replacefd;
  return Bpf(BPF_PROG_ATTACH, &attr);
}

int Detach(int dirfd, int progfd) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = dirfd;
  attr.attach_bpf_fd = progfd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  return Bpf(BPF_PROG_DETACH, &attr);
}

struct Fds {
  std::vector<int> fds;
  ~Fds() {
    for (int fd : fds)
      if (fd >= 0) close(fd);
  }
  int add(int fd) {
    fds.push_back(fd);
    return fd;
  }
};

// Loads the program; on failure, once more with the verifier's log for the error message.
int LoadProgram(const uint8_t *insns, size_t size, const std::string &license, std::string &log) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uint64_t>(insns);
  attr.insn_cnt = size / sizeof(struct bpf_insn);
  attr.license = reinterpret_cast<uint64_t>(license.c_str());
  int fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return fd;
  int err = errno;
  std::vector<char> buf(64 * 1024, 0);
  attr.log_level = 1;
  attr.log_buf = reinterpret_cast<uint64_t>(buf.data());
  attr.log_size = buf.size();
  fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return fd;
  log.assign(buf.data());
  errno = err;
  return -1;
}

// attachDeviceFilter(dir, insns, license): loads `insns` as a cgroup device program and
// makes it the one program of `dir`: with one program attached before, that one is
// replaced in place (BPF_F_REPLACE, no moment without a filter); otherwise the new one is
// attached (BPF_F_ALLOW_MULTI) and every old one detached after it.
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>();
  Napi::Buffer<uint8_t> insns = info[1].As<Napi::Buffer<uint8_t>>();
  std::string license = info[2].As<Napi::String>();
  if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn) != 0) {
    Napi::TypeError::New(env, "instructions must be a non-empty multiple of 8 bytes").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Kernels before 5.11 charge programs to RLIMIT_MEMLOCK; later ones to the memory cgroup.
  struct rlimit rl;
  if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_MEMLOCK, &rl);
  }
  Fds fds;
  int dirfd = fds.add(open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (dirfd < 0) THROW_ERRNO(env, "open", dir);
  std::vector<uint32_t> old;
  if (!QueryDevicePrograms(dirfd, old)) THROW_ERRNO(env, "bpf(BPF_PROG_QUERY)", dir);
  std::vector<int> oldfds;
  for (uint32_t id : old) {
    int fd = fds.add(ProgFdById(id));
    // A program we may not access (an LSM's) can only restrict further: leave it (runc too).
    // ENOENT: detached since the query.
    if (fd < 0 && (errno == EPERM || errno == EACCES || errno == ENOENT)) continue;
    if (fd < 0) THROW_ERRNO(env, "bpf(BPF_PROG_GET_FD_BY_ID)", dir);
    oldfds.push_back(fd);
  }
  std::string log;
  int prog = fds.add(LoadProgram(insns.Data(), insns.Length(), license, log));
  if (prog < 0) {
    int err = errno;
    Napi::Error e = ErrnoError(env, "bpf(BPF_PROG_LOAD)", err, dir);
    if (!log.empty()) e.Set("verifierLog", Napi::String::New(env, log));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (oldfds.size() == 1 && Attach(dirfd, prog, BPF_F_ALLOW_MULTI | BPF_F_REPLACE, oldfds[0]) == 0)
    return env.Undefined();
  // EINVAL: a kernel without BPF_F_REPLACE (before 5.6): attach, then detach the old ones.
  if (oldfds.size() == 1 && errno != EINVAL) THROW_ERRNO(env, "bpf(BPF_PROG_ATTACH, BPF_F_REPLACE)", dir);
  if (Attach(dirfd, prog, BPF_F_ALLOW_MULTI, -1) < 0) THROW_ERRNO(env, "bpf(BPF_PROG_ATTACH)", dir);
  for (int fd : oldfds)
    if (Detach(dirfd, fd) < 0) THROW_ERRNO(env, "bpf(BPF_PROG_DETACH)", dir);
  return env.Undefined();
}

// deviceFilterIds(dir): the ids of the device programs attached to the cgroup `dir`.
Napi::Value DeviceFilterIds(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>();
  int dirfd = open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (dirfd < 0) THROW_ERRNO(env, "open", dir);
  std::vector<uint32_t> ids;
  bool ok = QueryDevicePrograms(dirfd, ids);
  int err = errno;
  close(dirfd);
  if (!ok) {
    errno = err;
    THROW_ERRNO(env, "bpf(BPF_PROG_QUERY)", dir);
  }
  Napi::Array a = Napi::Array::New(env, ids.size());
  for (size_t i = 0; i < ids.size(); i++) a.Set(i, Napi::Number::New(env, ids[i]));
  return a;
}

}  // namespace

void InitBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("attachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter));
  exports.Set("deviceFilterIds", Napi::Function::New(env, DeviceFilterIds));
}
