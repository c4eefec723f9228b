/*
 * vmpilot's native RTP socket I/O (Linux): the packet hot path without Node's per-datagram costs.
 *
 * Why: with Node's dgram every received datagram costs a 64 KiB allocation (shrunk to the packet's size), a
 * Buffer, an address object with a fresh string, and a call from C++ into JavaScript with its microtask
 * checkpoint; every send a request object and argument checks. At 1,000 calls that is 50,000 datagrams a second
 * each way, and profiles put most of vmpilot's media CPU there, not in vmpilot's own code.
 *
 * What this does instead: all of a thread's RTP sockets sit in one epoll set, which sits in libuv's loop as a
 * single poll handle. When any is readable, the datagrams waiting on every ready socket are read straight into
 * one ring (an ArrayBuffer JavaScript owns), each described by a row of a metadata table (another
 * ArrayBuffer), and JavaScript is called once for the whole batch. The source address is turned into text only
 * when it differs from the previous datagram's on the same socket (a call's peer rarely changes), so the usual
 * datagram creates no string. Sends go out with one sendto() on the socket's stored peer address.
 *
 * The rows are read before the next batch reuses the ring: the JavaScript side (src/media/native-rtp-io.ts)
 * hands each datagram to its handler synchronously, and the handlers copy what they keep.
 *
 * Slot ids: open() returns index | generation << 20; the generation grows each time an index is reused, so a
 * row read after its socket was closed (and the index reopened within the same batch) is recognised as stale.
 *
 * Nothing here trusts a datagram: it is only copied (truncated to MAX_DATAGRAM) and described; parsing, source
 * checks and SRTP stay in TypeScript.
 */
#define _GNU_SOURCE /* SCHED_RESET_ON_FORK */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room kept in the ring per datagram: RTP over Ethernet fits; a larger one is cut (and fails its parse or SRTP). */
#define MAX_DATAGRAM 2048
/* Room for the source's text after a datagram whose source changed (INET6_ADDRSTRLEN is 46). */
#define MAX_ADDRESS_TEXT 48
/* u32 columns of a metadata row: id, ring offset, length, source port, source text length (0: unchanged). */
#define ROW_U32 5
#define INDEX_BITS 20
#define INDEX_MASK ((1u << INDEX_BITS) - 1)
#define GENERATION_MASK 0x7ffu /* 11 bits: the id stays a positive int32 */
/* Per readiness: datagrams read from one socket before moving on, and batches before yielding to libuv. */
#define READS_PER_SOCKET 8
#define BATCHES_PER_WAKE 4
#define EVENTS 256

typedef struct {
  int fd; /* -1: free */
  uint32_t generation;
  int family;
  int connected; /* connect()ed to peer: the kernel drops other sources, and send() needs no address */
  struct sockaddr_storage peer;
  socklen_t peer_len;
  struct sockaddr_storage last; /* the previous datagram's source */
  socklen_t last_len;
} Slot;

typedef struct {
  napi_env env;
  int epfd;
  uv_poll_t poll;
  int poll_started;
  int destroyed;
  napi_ref callback;
  napi_ref ring_ref;
  napi_ref meta_ref;
  napi_ref resource;
  napi_async_context async_context;
  uint8_t *ring;
  size_t ring_size;
  uint32_t *meta;
  uint32_t max_rows;
  Slot *slots;
  uint32_t slot_count;    /* slots ever used (slots[0..slot_count)) */
  uint32_t slot_capacity; /* allocated */
  uint32_t *free_list;
  uint32_t free_count;
} Io;

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    if ((call) != napi_ok) return NULL;                                                                                \
  } while (0)

static napi_value int_value(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

/* Parses an IPv4 or IPv6 literal into `out`. For an IPv6 socket an IPv4 address is written IPv4-mapped. */
static int parse_address(const char *text, int port, int family, struct sockaddr_storage *out, socklen_t *len) {
  memset(out, 0, sizeof(*out));
  if (family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)out;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, text, &a->sin_addr) != 1) return -EINVAL;
    *len = sizeof(*a);
    return 0;
  }
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons((uint16_t)port);
  if (inet_pton(AF_INET6, text, &a->sin6_addr) != 1) {
    struct in_addr v4;
    if (inet_pton(AF_INET, text, &v4) != 1) return -EINVAL;
    a->sin6_addr.s6_addr[10] = 0xff;
    a->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&a->sin6_addr.s6_addr[12], &v4, 4);
  }
  *len = sizeof(*a);
  return 0;
}

static int read_string(napi_env env, napi_value v, char *buf, size_t size) {
  size_t n = 0;
  if (napi_get_value_string_utf8(env, v, buf, size, &n) != napi_ok) return -1;
  return n + 1 < size ? 0 : -1;
}

static Io *get_io(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  Io *io = p;
  return io != NULL && !io->destroyed ? io : NULL;
}

/* The slot named by a JavaScript id, or NULL if the id is stale or out of range. */
static Slot *get_slot(Io *io, napi_env env, napi_value v) {
  uint32_t id = 0;
  if (napi_get_value_uint32(env, v, &id) != napi_ok) return NULL;
  uint32_t index = id & INDEX_MASK;
  if (index >= io->slot_count) return NULL;
  Slot *s = &io->slots[index];
  if (s->fd < 0 || (s->generation & GENERATION_MASK) != (id >> INDEX_BITS)) return NULL;
  return s;
}

/*
 * The arguments of a call on one socket, (io, id, ...): up to `max` of them into argv (the count into *argc),
 * and the slot they name, or NULL when the io is destroyed or the id stale.
 */
static Slot *socket_call(napi_env env, napi_callback_info info, size_t max, napi_value *argv, size_t *argc) {
  *argc = max;
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok || *argc < 2) return NULL;
  Io *io = get_io(env, argv[0]);
  return io != NULL ? get_slot(io, env, argv[1]) : NULL;
}


/* Hands `rows` rows to JavaScript: callback(rows). */
static void deliver(Io *io, uint32_t rows) {
  napi_env env = io->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value callback, resource, argv[1], result;
  if (napi_get_reference_value(env, io->callback, &callback) == napi_ok &&
      napi_get_reference_value(env, io->resource, &resource) == napi_ok) {
    argv[0] = int_value(env, rows);
    /* napi_make_callback, not napi_call_function: it runs the microtasks and process.nextTick queue after
     * the call, as Node's own socket callbacks do. */
    napi_status st = napi_make_callback(env, io->async_context, resource, callback, 1, argv, &result);
    if (st == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error); /* 'uncaughtException', as a throwing dgram listener would */
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  Io *io = handle->data;
  struct epoll_event ready[EVENTS];
  for (int batch = 0; batch < BATCHES_PER_WAKE && !io->destroyed; batch++) {
    int n = epoll_wait(io->epfd, ready, EVENTS, 0);
    if (n <= 0) return;
    uint32_t rows = 0;
    size_t pos = 0;
    int full = 0;
    for (int i = 0; i < n && !full; i++) {
      uint32_t index = (uint32_t)ready[i].data.u64;
      if (index >= io->slot_count) continue;
      Slot *s = &io->slots[index];
      for (int k = 0; k < READS_PER_SOCKET && s->fd >= 0; k++) {
        if (rows == io->max_rows || io->ring_size - pos < MAX_DATAGRAM + MAX_ADDRESS_TEXT) {
          full = 1;
          break;
        }
        struct sockaddr_storage from;
        socklen_t from_len = sizeof(from);
        ssize_t got = recvfrom(s->fd, io->ring + pos, MAX_DATAGRAM, MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
        if (got < 0) {
          if (errno == EINTR) continue;
          break; /* EAGAIN: drained; anything else (an ICMP error queued by a send): nothing to read now */
        }
        uint32_t *row = io->meta + (size_t)rows * ROW_U32;
        row[0] = index | ((s->generation & GENERATION_MASK) << INDEX_BITS);
        row[1] = (uint32_t)pos;
        row[2] = (uint32_t)got;
        row[3] = from.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&from)->sin_port)
                                           : ntohs(((struct sockaddr_in6 *)&from)->sin6_port);
        row[4] = 0;
        size_t next = pos + (size_t)got;
        if (from_len != s->last_len || memcmp(&from, &s->last, from_len) != 0) {
          memcpy(&s->last, &from, from_len);
          s->last_len = from_len;
          const void *addr = from.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&from)->sin_addr
                                                       : (const void *)&((struct sockaddr_in6 *)&from)->sin6_addr;
          char *text = (char *)io->ring + next;
          if (inet_ntop(from.ss_family, addr, text, MAX_ADDRESS_TEXT) != NULL) {
            size_t len = strlen(text);
            row[4] = (uint32_t)len;
            next += len;
          }
        }
        pos = (next + 7) & ~(size_t)7;
        rows++;
      }
    }
    if (rows > 0) deliver(io, rows);
    /* Not full: every ready socket was drained (or gave its share); libuv wakes us again for what is left. */
    if (!full) return;
  }
}

static void close_slot(Io *io, uint32_t index) {
  Slot *s = &io->slots[index];
  if (s->fd < 0) return;
  epoll_ctl(io->epfd, EPOLL_CTL_DEL, s->fd, NULL);
  close(s->fd);
  s->fd = -1;
  io->free_list[io->free_count++] = index;
}

/* The Io itself is not freed: the JavaScript external may still name it (destroyed is then set, and every
 * call answers as for a closed socket). One small struct per thread that used native RTP, at its end. */
static void on_poll_closed(uv_handle_t *handle) {
  Io *io = handle->data;
  free(io->slots);
  free(io->free_list);
  io->slots = NULL;
  io->free_list = NULL;
  io->slot_count = 0;
  io->slot_capacity = 0;
  io->free_count = 0;
}

static void shut_down(Io *io) {
  if (io->destroyed) return;
  io->destroyed = 1;
  for (uint32_t i = 0; i < io->slot_count; i++) {
    if (io->slots[i].fd >= 0) {
      close(io->slots[i].fd);
      io->slots[i].fd = -1;
    }
  }
  napi_delete_reference(io->env, io->callback);
  napi_delete_reference(io->env, io->ring_ref);
  napi_delete_reference(io->env, io->meta_ref);
  napi_delete_reference(io->env, io->resource);
  napi_async_destroy(io->env, io->async_context);
  if (io->poll_started) uv_poll_stop(&io->poll);
  close(io->epfd);
  io->epfd = -1;
  uv_close((uv_handle_t *)&io->poll, on_poll_closed);
}

static void cleanup_hook(void *arg) { shut_down(arg); }

/* create(ring: ArrayBuffer, meta: ArrayBuffer, onBatch: (rows) => void) -> io */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    napi_throw_type_error(env, NULL, "create(ring, meta, onBatch)");
    return NULL;
  }
  void *ring = NULL, *meta = NULL;
  size_t ring_size = 0, meta_size = 0;
  if (napi_get_arraybuffer_info(env, argv[0], &ring, &ring_size) != napi_ok ||
      napi_get_arraybuffer_info(env, argv[1], &meta, &meta_size) != napi_ok ||
      ring_size < 4 * (MAX_DATAGRAM + MAX_ADDRESS_TEXT) || meta_size < ROW_U32 * 4 * 4) {
    napi_throw_type_error(env, NULL, "ring and meta must be ArrayBuffers of a useful size");
    return NULL;
  }
  uv_loop_t *loop = NULL;
  CHECK(napi_get_uv_event_loop(env, &loop));
  Io *io = calloc(1, sizeof(Io));
  if (io == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  io->env = env;
  io->ring = ring;
  io->ring_size = ring_size;
  io->meta = meta;
  io->max_rows = (uint32_t)(meta_size / (ROW_U32 * 4));
  io->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (io->epfd < 0) {
    free(io);
    napi_throw_error(env, "EPOLL", "epoll_create1 failed");
    return NULL;
  }
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "vmpilot.rtp-io", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &io->async_context);
  napi_create_reference(env, resource, 1, &io->resource);
  napi_create_reference(env, argv[0], 1, &io->ring_ref);
  napi_create_reference(env, argv[1], 1, &io->meta_ref);
  napi_create_reference(env, argv[2], 1, &io->callback);
  uv_poll_init(loop, &io->poll, io->epfd);
  io->poll.data = io;
  uv_poll_start(&io->poll, UV_READABLE, on_readable);
  /* Unreferenced: RTP sockets alone do not keep a process alive (the SIP sockets and timers do). */
  uv_unref((uv_handle_t *)&io->poll);
  io->poll_started = 1;
  napi_add_env_cleanup_hook(env, cleanup_hook, io);
  napi_value out;
  CHECK(napi_create_external(env, io, NULL, NULL, &out));
  return out;
}

/* open(io, address, port) -> id >= 0, or -errno (EADDRINUSE, EACCES, EINVAL...) */
static napi_value open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Io *io = argc >= 3 ? get_io(env, argv[0]) : NULL;
  char address[64];
  int32_t port = 0;
  if (io == NULL || read_string(env, argv[1], address, sizeof(address)) != 0 ||
      napi_get_value_int32(env, argv[2], &port) != napi_ok || port < 0 || port > 65535)
    return int_value(env, -EINVAL);
  int family = strchr(address, ':') != NULL ? AF_INET6 : AF_INET;
  struct sockaddr_storage local;
  socklen_t local_len;
  if (parse_address(address, port, family, &local, &local_len) != 0) return int_value(env, -EINVAL);
  if (io->free_count == 0 && io->slot_count == io->slot_capacity) {
    uint32_t capacity = io->slot_capacity == 0 ? 256 : io->slot_capacity * 2;
    if (capacity > INDEX_MASK + 1) return int_value(env, -EMFILE);
    Slot *slots = realloc(io->slots, capacity * sizeof(Slot));
    if (slots == NULL) return int_value(env, -ENOMEM);
    io->slots = slots;
    uint32_t *free_list = realloc(io->free_list, capacity * sizeof(uint32_t));
    if (free_list == NULL) return int_value(env, -ENOMEM);
    io->free_list = free_list;
    io->slot_capacity = capacity;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return int_value(env, -errno);
  if (family == AF_INET6) {
    int off = 0; /* dual stack, as Node's udp6 sockets */
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  if (bind(fd, (struct sockaddr *)&local, local_len) != 0) {
    int err = errno;
    close(fd);
    return int_value(env, -err);
  }
  uint32_t index, generation;
  if (io->free_count > 0) {
    index = io->free_list[--io->free_count];
    generation = io->slots[index].generation + 1;
  } else {
    index = io->slot_count++;
    generation = 1;
  }
  Slot *s = &io->slots[index];
  memset(s, 0, sizeof(*s));
  s->fd = fd;
  s->family = family;
  s->generation = generation;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = index};
  if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    close_slot(io, index);
    return int_value(env, -err);
  }
  return int_value(env, index | ((generation & GENERATION_MASK) << INDEX_BITS));
}

/* close(io, id) */
static napi_value close_socket(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[2];
  Slot *s = socket_call(env, info, 2, argv, &argc);
  if (s != NULL) {
    Io *io = get_io(env, argv[0]);
    close_slot(io, (uint32_t)(s - io->slots));
  }
  return NULL;
}

/* setPeer(io, id, address, port) -> 0, or -errno: where send() sends while not connected. */
static napi_value set_peer(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[4];
  Slot *s = socket_call(env, info, 4, argv, &argc);
  char address[64];
  int32_t port = 0;
  if (s == NULL || argc < 4 || read_string(env, argv[2], address, sizeof(address)) != 0 ||
      napi_get_value_int32(env, argv[3], &port) != napi_ok || port <= 0 || port > 65535)
    return int_value(env, -EINVAL);
  struct sockaddr_storage peer;
  socklen_t len;
  if (parse_address(address, port, s->family, &peer, &len) != 0) return int_value(env, -EINVAL);
  if (s->connected) return int_value(env, -EISCONN);
  s->peer = peer;
  s->peer_len = len;
  return int_value(env, 0);
}

/*
 * connect(io, id, address, port) -> 0, or -errno: sends go to this peer and the kernel delivers only its
 * datagrams (rtp-link.ts says why a call does this while its latched source is active).
 * connect(io, id) -> disconnects: every source is heard again; sends keep the stored peer.
 */
static napi_value connect_socket(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[4];
  Slot *s = socket_call(env, info, 4, argv, &argc);
  if (s == NULL) return int_value(env, -EBADF);
  if (argc < 4) {
    if (!s->connected) return int_value(env, 0);
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    s->connected = 0;
    return int_value(env, connect(s->fd, &unspec, sizeof(unspec)) == 0 ? 0 : -errno);
  }
  char address[64];
  int32_t port = 0;
  struct sockaddr_storage peer;
  socklen_t len;
  if (read_string(env, argv[2], address, sizeof(address)) != 0 || napi_get_value_int32(env, argv[3], &port) != napi_ok ||
      port <= 0 || port > 65535 || parse_address(address, port, s->family, &peer, &len) != 0)
    return int_value(env, -EINVAL);
  if (connect(s->fd, (struct sockaddr *)&peer, len) != 0) return int_value(env, -errno);
  s->peer = peer;
  s->peer_len = len;
  s->connected = 1;
  return int_value(env, 0);
}

/* send(io, id, bytes: Uint8Array, length) -> bytes sent, or -errno (the datagram is dropped, as UDP may). */
static napi_value send_datagram(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[4];
  Slot *s = socket_call(env, info, 4, argv, &argc);
  if (s == NULL || argc < 4 || s->peer_len == 0) return int_value(env, -EDESTADDRREQ);
  void *data = NULL;
  size_t size = 0;
  uint32_t length = 0;
  if (napi_get_typedarray_info(env, argv[2], NULL, &size, &data, NULL, NULL) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &length) != napi_ok || length > size)
    return int_value(env, -EINVAL);
  ssize_t sent = s->connected ? send(s->fd, data, length, MSG_DONTWAIT | MSG_NOSIGNAL)
                              : sendto(s->fd, data, length, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&s->peer, s->peer_len);
  return int_value(env, sent < 0 ? -errno : sent);
}

/* localPort(io, id) -> the bound port, or -errno */
static napi_value local_port(napi_env env, napi_callback_info info) {
  size_t argc;
  napi_value argv[2];
  Slot *s = socket_call(env, info, 2, argv, &argc);
  if (s == NULL) return int_value(env, -EBADF);
  struct sockaddr_storage local;
  socklen_t len = sizeof(local);
  if (getsockname(s->fd, (struct sockaddr *)&local, &len) != 0) return int_value(env, -errno);
  return int_value(env, local.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&local)->sin_port)
                                                   : ntohs(((struct sockaddr_in6 *)&local)->sin6_port));
}

/* destroy(io): closes every socket and stops polling. */
static napi_value destroy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Io *io = argc >= 1 ? get_io(env, argv[0]) : NULL;
  if (io != NULL) {
    napi_remove_env_cleanup_hook(env, cleanup_hook, io);
    shut_down(io);
  }
  return NULL;
}

/*
 * setRealtime(priority) -> 0, or -errno (EPERM without CAP_SYS_NICE or an RLIMIT_RTPRIO that allows it): the
 * CALLING THREAD (Linux applies sched_setscheduler(0) to a thread) to SCHED_FIFO at priority 1-99, or back to
 * SCHED_OTHER with 0. With SCHED_RESET_ON_FORK, so that threads and processes it creates later (a restarted
 * store thread, sox) start as ordinary ones: only the thread that paces RTP runs ahead of everything else, as
 * FreeSWITCH's -rp and Asterisk's -p do for their media threads.
 */
static napi_value set_realtime(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t priority = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &priority) != napi_ok || priority < 0 || priority > 99)
    return int_value(env, -EINVAL);
  struct sched_param param = {.sched_priority = priority};
  int policy = priority > 0 ? (SCHED_FIFO | SCHED_RESET_ON_FORK) : SCHED_OTHER;
  return int_value(env, sched_setscheduler(0, policy, &param) == 0 ? 0 : -errno);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, open_socket, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_socket, NULL, NULL, NULL, napi_default, NULL},
      {"setPeer", NULL, set_peer, NULL, NULL, NULL, napi_default, NULL},
      {"connect", NULL, connect_socket, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, send_datagram, NULL, NULL, NULL, napi_default, NULL},
      {"localPort", NULL, local_port, NULL, NULL, NULL, napi_default, NULL},
      {"destroy", NULL, destroy, NULL, NULL, NULL, napi_default, NULL},
      {"setRealtime", NULL, set_realtime, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  napi_value constants;
  napi_create_object(env, &constants);
  napi_set_named_property(env, constants, "ROW_U32", int_value(env, ROW_U32));
  napi_set_named_property(env, constants, "MAX_DATAGRAM", int_value(env, MAX_DATAGRAM));
  napi_set_named_property(env, exports, "constants", constants);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
