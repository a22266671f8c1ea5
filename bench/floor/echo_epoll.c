/* echo_epoll.c - floor TCP echo (RFC 862) server: one thread, one
 * edge-triggered epoll loop, nonblocking sockets, no limits/logging/policy.
 * Reference for the least CPU per operation the kernel allows.
 *
 * Build: cc -O2 -Wall -Wextra -o echo_epoll echo_epoll.c
 * Run:   ./echo_epoll HOST PORT      (HOST numeric IPv4 or IPv6)
 *
 * Each connection is registered once with EPOLLIN|EPOLLOUT|EPOLLRDHUP|
 * EPOLLET. Data read is written straight back; whatever the socket does
 * not take is kept in a per-connection heap buffer and reading stops until
 * the buffer is drained (backpressure). The mask epoll reports is the
 * socket's state when it was harvested, so a short read without RDHUP/HUP/
 * ERR means the queue was empty and any later data raises a new edge: no
 * extra read() to see EAGAIN is needed. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ (256 * 1024)
#define AGAIN(e) ((e) == EAGAIN || (e) == EWOULDBLOCK)

struct conn { int fd; char *pend; size_t off, len; };
static char buf[BUFSZ];

static void die(const char *what)
{
    fprintf(stderr, "echo_epoll: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Write pending bytes; 0 = drained or EAGAIN, -1 = error. */
static int flush(struct conn *c)
{
    while (c->off < c->len) {
        ssize_t w = write(c->fd, c->pend + c->off, c->len - c->off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return AGAIN(errno) ? 0 : -1;
        }
        c->off += (size_t)w;
    }
    c->off = c->len = 0;
    return 0;
}

static void on_conn(struct conn *c, uint32_t ev)
{
    int eof = ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
    if (c->len) {
        if (flush(c) < 0)
            goto drop;
        if (c->len)
            return; /* still blocked: wait for the next EPOLLOUT edge */
    } else if (!(ev & EPOLLIN) && !eof)
        return; /* writability edge with nothing pending */
    for (;;) {
        ssize_t n = read(c->fd, buf, BUFSZ), w;
        if (n == 0)
            goto drop; /* EOF, nothing pending: done */
        if (n < 0) {
            if (errno == EINTR) continue;
            if (AGAIN(errno)) return;
            goto drop;
        }
        do w = write(c->fd, buf, (size_t)n); while (w < 0 && errno == EINTR);
        if (w < 0) {
            if (!AGAIN(errno)) goto drop;
            w = 0;
        }
        if (w < n) { /* short write: keep the rest, stop reading */
            if (!c->pend && !(c->pend = malloc(BUFSZ)))
                goto drop;
            memcpy(c->pend, buf + w, (size_t)(n - w));
            c->off = 0, c->len = (size_t)(n - w);
            return;
        }
        if (n < BUFSZ && !eof)
            return; /* queue drained; new data brings a new edge */
    }
drop:
    close(c->fd); /* also removes it from the epoll set */
    free(c->pend);
    free(c);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fprintf(stderr, "usage: echo_epoll HOST PORT\n"), 1;
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && (rl.rlim_cur = rl.rlim_max))
        setrlimit(RLIMIT_NOFILE, &rl);
    struct addrinfo hints = {0}, *ai;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
    if (rc) {
        fprintf(stderr, "echo_epoll: %s %s: %s\n", argv[1], argv[2], gai_strerror(rc));
        return 1;
    }
    int one = 1;
    int lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, ai->ai_addr, ai->ai_addrlen) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen");
    freeaddrinfo(ai);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct epoll_event le = { .events = EPOLLIN | EPOLLET, .data.ptr = NULL };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &le) < 0) die("epoll_ctl");

    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr) {
                on_conn(evs[i].data.ptr, evs[i].events);
                continue;
            }
            for (;;) { /* accept until EAGAIN; on EMFILE etc. stop this round */
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                    if (errno == EINTR || errno == ECONNABORTED) continue;
                    break;
                }
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct conn *c = calloc(1, sizeof *c);
                struct epoll_event ce = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
                ce.data.ptr = c;
                if (!c || (c->fd = fd, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce) < 0)) {
                    close(fd);
                    free(c);
                }
            }
        }
    }
}
