// The one error shape the addon reports: which setup step failed, in which system call, with which errno.
// Nothing here throws; the TypeScript owner (src/roles/io/capture.ts) turns a failure into a typed error.
#ifndef DSIEM_SYS_FAILURE_H_
#define DSIEM_SYS_FAILURE_H_

namespace dsiem {

struct SysFailure {
  int errnum = 0;          // 0: success
  const char* syscall = "";  // the system call that failed, e.g. "setsockopt"
  const char* step = "";     // what it was for: "socket", "ring", "fanout", … (stable names the TS side maps)

  bool ok() const { return errnum == 0; }
};

inline SysFailure Succeeded() { return SysFailure{}; }

inline SysFailure Failed(int errnum, const char* syscall, const char* step) {
  return SysFailure{errnum, syscall, step};
}

}  // namespace dsiem

#endif  // DSIEM_SYS_FAILURE_H_
