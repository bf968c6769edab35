/* rtnetlink by hand (rtnetlink(7), netlink(7)): a request is a nlmsghdr, a
   family header (ifinfomsg, ifaddrmsg) and attributes; the kernel answers
   with messages of the same shape and, for a request with NLM_F_ACK, an
   NLMSG_ERROR whose error is 0 on success. */
#include "config.h"
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"

/* Answers to a dump come in batches of up to 32 KiB. */
#define NL_BUF_SIZE (64 * 1024)
/* An ack of one of our small requests, on the stack of the init. */
#define NL_ACK_SIZE 1024
#define NL_DUMP_TRIES 5

struct nl_req
{
  struct nlmsghdr h;
  char body[512];
};

typedef void (*nl_answer_fn) (const struct nlmsghdr *h, void *data);

static uint32_t
next_seq (void)
{
  /* Not used by the init: a write here would dirty a page it shares. */
  static uint32_t seq;
  return ++seq;
}

static void
req_init (struct nl_req *r, uint16_t type, uint16_t flags, uint32_t seq, const void *hdr,
          size_t len)
{
  memset (r, 0, sizeof *r);
  r->h.nlmsg_type = type;
  r->h.nlmsg_flags = NLM_F_REQUEST | flags;
  r->h.nlmsg_seq = seq;
  r->h.nlmsg_len = NLMSG_LENGTH (len);
  memcpy (NLMSG_DATA (&r->h), hdr, len);
}

static void
req_attr (struct nl_req *r, uint16_t type, const void *data, size_t len)
{
  size_t off = NLMSG_ALIGN (r->h.nlmsg_len);
  if (off + RTA_SPACE (len) > sizeof *r)
    abort (); /* our requests are small and bounded */
  struct rtattr *rta = (struct rtattr *)((char *)r + off);
  rta->rta_type = type;
  rta->rta_len = (unsigned short)RTA_LENGTH (len);
  memcpy (RTA_DATA (rta), data, len);
  r->h.nlmsg_len = (uint32_t)(off + RTA_SPACE (len));
}

/* Send the request, then read until its ack, or the end of its dump,
   passing each answer of type `want` to fn.  1 when the kernel says the
   dump was interrupted by a change (the answers may be inconsistent). */
static int
transact (int fd, struct nl_req *r, char *buf, size_t size, uint16_t want, nl_answer_fn fn,
          void *data, const char *what, skiff_error_t *err)
{
  bool interrupted = false;
  if (send (fd, r, r->h.nlmsg_len, 0) < 0)
    return skiff_error (err, errno, "%s: netlink send", what);
  for (;;)
    {
      ssize_t got = recv (fd, buf, size, 0);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        return skiff_error (err, got < 0 ? errno : EPIPE, "%s: netlink receive", what);
      int len = (int)got;
      for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK (h, len); h = NLMSG_NEXT (h, len))
        {
          if (h->nlmsg_seq != r->h.nlmsg_seq)
            continue; /* left from an earlier request */
          interrupted |= (h->nlmsg_flags & NLM_F_DUMP_INTR) != 0;
          if (h->nlmsg_type == NLMSG_DONE)
            return interrupted ? 1 : 0;
          if (h->nlmsg_type == NLMSG_ERROR)
            {
              const struct nlmsgerr *e = NLMSG_DATA (h);
              if (h->nlmsg_len < NLMSG_LENGTH (sizeof *e))
                return skiff_error (err, EBADMSG, "%s: short netlink error", what);
              if (e->error != 0)
                return skiff_error (err, -e->error, "%s", what);
              return 0;
            }
          if (h->nlmsg_type == want && fn)
            fn (h, data);
        }
    }
}

static int
transact_heap (int fd, struct nl_req *r, uint16_t want, nl_answer_fn fn, void *data,
               const char *what, skiff_error_t *err)
{
  cleanup_free char *buf = malloc (NL_BUF_SIZE);
  if (buf == NULL)
    abort ();
  return transact (fd, r, buf, NL_BUF_SIZE, want, fn, data, what, err);
}

/* A dump request (RTM_GETLINK, RTM_GETADDR) answered by `want` messages;
   asked again (at most NL_DUMP_TRIES) while transact_heap
   says it was interrupted, with *count reset for each try. */
static int
dump (int fd, uint16_t type, uint16_t want, const void *hdr, size_t len, nl_answer_fn fn,
      void *data, size_t *count, const char *what, skiff_error_t *err)
{
  for (int tries = 0;; tries++)
    {
      struct nl_req r;
      req_init (&r, type, NLM_F_DUMP, next_seq (), hdr, len);
      *count = 0;
      int got = transact_heap (fd, &r, want, fn, data, what, err);
      if (got < 0)
        return -1;
      if (got == 0 || tries == NL_DUMP_TRIES)
        return 0;
    }
}

int
nl_open (skiff_error_t *err)
{
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    return skiff_error (err, errno, "open a netlink socket");
  return fd;
}

int
nl_open_in_netns (int netns_fd, skiff_error_t *err)
{
  /* A netlink socket belongs to the namespace it was opened in: enter it
     for the socket() and come back (we are single-threaded). */
  cleanup_close int self = open ("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return skiff_error (err, errno, "open /proc/thread-self/ns/net");
  if (setns (netns_fd, CLONE_NEWNET) < 0)
    return skiff_error (err, errno, "enter the container's network namespace");
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int e = errno;
  if (setns (self, CLONE_NEWNET) < 0)
    abort (); /* going on in the container's network namespace is worse */
  if (fd < 0)
    return skiff_error (err, e, "open a netlink socket in the container's network namespace");
  return fd;
}

static void
parse_attrs (struct rtattr *rta, int len, struct rtattr **tb, int max)
{
  memset (tb, 0, sizeof *tb * (size_t)(max + 1));
  for (; RTA_OK (rta, len); rta = RTA_NEXT (rta, len))
    if (rta->rta_type <= max)
      tb[rta->rta_type] = rta;
}

static void
link_answer (const struct nlmsghdr *h, void *data)
{
  struct nl_link *out = data;
  struct rtattr *tb[IFLA_MAX + 1];
  const struct ifinfomsg *ifi = NLMSG_DATA (h);
  if (h->nlmsg_len < NLMSG_LENGTH (sizeof *ifi))
    return;
  parse_attrs (IFLA_RTA (ifi), (int)IFLA_PAYLOAD (h), tb, IFLA_MAX);
  memset (out, 0, sizeof *out);
  out->index = ifi->ifi_index;
  out->flags = ifi->ifi_flags;
  if (tb[IFLA_MTU] && RTA_PAYLOAD (tb[IFLA_MTU]) >= sizeof (uint32_t))
    memcpy (&out->mtu, RTA_DATA (tb[IFLA_MTU]), sizeof (uint32_t));
  if (tb[IFLA_IFNAME])
    snprintf (out->name, sizeof out->name, "%.*s", (int)RTA_PAYLOAD (tb[IFLA_IFNAME]),
              (const char *)RTA_DATA (tb[IFLA_IFNAME]));
}

static int
get_link (int fd, int index, const char *name, struct nl_link *out, skiff_error_t *err)
{
  struct nl_req r;
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
  skiff_error_t e = NULL;
  req_init (&r, RTM_GETLINK, NLM_F_ACK, next_seq (), &ifi, sizeof ifi);
  if (name)
    req_attr (&r, IFLA_IFNAME, name, strlen (name) + 1);
  out->index = 0;
  if (transact_heap (fd, &r, RTM_NEWLINK, link_answer, out, "look up the link", &e) < 0)
    {
      if (e->errno_ == ENODEV)
        {
          skiff_error_free (&e);
          return 0;
        }
      *err = e;
      return -1;
    }
  return out->index > 0;
}

int
nl_link_by_name (int fd, const char *name, struct nl_link *out, skiff_error_t *err)
{
  return get_link (fd, 0, name, out, err);
}

int
nl_link_by_index (int fd, int index, struct nl_link *out, skiff_error_t *err)
{
  return get_link (fd, index, NULL, out, err);
}

struct index_list
{
  int *v;
  size_t n;
};

static void
index_answer (const struct nlmsghdr *h, void *data)
{
  struct index_list *l = data;
  const struct ifinfomsg *ifi = NLMSG_DATA (h);
  if (h->nlmsg_len < NLMSG_LENGTH (sizeof *ifi))
    return;
  l->v = realloc (l->v, (l->n + 1) * sizeof *l->v);
  if (l->v == NULL)
    abort ();
  l->v[l->n++] = ifi->ifi_index;
}

int
nl_link_indexes (int fd, int **out, size_t *n, skiff_error_t *err)
{
  struct index_list l = { 0 };
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
  if (dump (fd, RTM_GETLINK, RTM_NEWLINK, &ifi, sizeof ifi, index_answer, &l, &l.n,
            "list the links", err)
      < 0)
    {
      free (l.v);
      return -1;
    }
  *out = l.v;
  *n = l.n;
  return 0;
}

int
nl_link_move (int fd, int index, const char *name, int netns_fd, skiff_error_t *err)
{
  struct nl_req r;
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
  uint32_t ns = (uint32_t)netns_fd;
  req_init (&r, RTM_NEWLINK, NLM_F_ACK, next_seq (), &ifi, sizeof ifi);
  /* One request: moved and renamed together, so the host name never
     needs to be free in the target, nor the target name on the host. */
  req_attr (&r, IFLA_NET_NS_FD, &ns, sizeof ns);
  req_attr (&r, IFLA_IFNAME, name, strlen (name) + 1);
  return transact_heap (fd, &r, 0, NULL, NULL, "move the link", err);
}

int
nl_link_up (int fd, int index, skiff_error_t *err)
{
  struct nl_req r;
  char buf[NL_ACK_SIZE];
  struct ifinfomsg ifi
      = { .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
  req_init (&r, RTM_NEWLINK, NLM_F_ACK, 1, &ifi, sizeof ifi);
  return transact (fd, &r, buf, sizeof buf, 0, NULL, NULL, "set the link up", err);
}

struct addr_list
{
  int index;
  struct nl_addr *v;
  size_t n;
};

static void
copy_addr (unsigned char *dst, bool *has, size_t max, const struct rtattr *rta)
{
  if (rta == NULL || RTA_PAYLOAD (rta) > max)
    return;
  memcpy (dst, RTA_DATA (rta), RTA_PAYLOAD (rta));
  *has = true;
}

static void
addr_answer (const struct nlmsghdr *h, void *data)
{
  struct addr_list *l = data;
  struct rtattr *tb[IFA_MAX + 1];
  const struct ifaddrmsg *ifa = NLMSG_DATA (h);
  if (h->nlmsg_len < NLMSG_LENGTH (sizeof *ifa) || (int)ifa->ifa_index != l->index
      || (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
    return;
  parse_attrs (IFA_RTA (ifa), (int)IFA_PAYLOAD (h), tb, IFA_MAX);
  l->v = realloc (l->v, (l->n + 1) * sizeof *l->v);
  if (l->v == NULL)
    abort ();
  struct nl_addr *a = &l->v[l->n++];
  memset (a, 0, sizeof *a);
  a->family = ifa->ifa_family;
  a->prefixlen = ifa->ifa_prefixlen;
  a->scope = ifa->ifa_scope;
  a->flags = ifa->ifa_flags;
  /* IFA_FLAGS holds the flags that do not fit in ifa_flags' 8 bits. */
  if (tb[IFA_FLAGS] && RTA_PAYLOAD (tb[IFA_FLAGS]) >= sizeof (uint32_t))
    memcpy (&a->flags, RTA_DATA (tb[IFA_FLAGS]), sizeof (uint32_t));
  size_t alen = a->family == AF_INET ? 4 : 16;
  copy_addr (a->local, &a->has_local, alen, tb[IFA_LOCAL]);
  copy_addr (a->address, &a->has_address, alen, tb[IFA_ADDRESS]);
  if (a->family == AF_INET)
    copy_addr (a->broadcast, &a->has_broadcast, 4, tb[IFA_BROADCAST]);
}

int
nl_addr_list (int fd, int index, struct nl_addr **out, size_t *n, skiff_error_t *err)
{
  struct addr_list l = { .index = index };
  struct ifaddrmsg ifa = { .ifa_family = AF_UNSPEC };
  if (dump (fd, RTM_GETADDR, RTM_NEWADDR, &ifa, sizeof ifa, addr_answer, &l, &l.n,
            "list the addresses", err)
      < 0)
    {
      free (l.v);
      return -1;
    }
  *out = l.v;
  *n = l.n;
  return 0;
}

int
nl_addr_add (int fd, int index, const struct nl_addr *a, skiff_error_t *err)
{
  struct nl_req r;
  /* What a user may ask of an address; the kernel keeps the rest. */
  uint32_t flags = a->flags
                   & (IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE
                      | IFA_F_MCAUTOJOIN);
  struct ifaddrmsg ifa = { .ifa_family = a->family,
                           .ifa_prefixlen = a->prefixlen,
                           .ifa_flags = (unsigned char)flags,
                           .ifa_scope = a->scope,
                           .ifa_index = (unsigned)index };
  size_t alen = a->family == AF_INET ? 4 : 16;
  char what[INET6_ADDRSTRLEN + 32];
  req_init (&r, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, next_seq (), &ifa,
            sizeof ifa);
  if (a->has_local)
    req_attr (&r, IFA_LOCAL, a->local, alen);
  if (a->has_address)
    req_attr (&r, IFA_ADDRESS, a->address, alen);
  if (a->has_broadcast)
    req_attr (&r, IFA_BROADCAST, a->broadcast, 4);
  req_attr (&r, IFA_FLAGS, &flags, sizeof flags);
  char text[INET6_ADDRSTRLEN + 8];
  nl_addr_format (a, text, sizeof text);
  snprintf (what, sizeof what, "add address %s", text);
  return transact_heap (fd, &r, 0, NULL, NULL, what, err);
}

void
nl_addr_format (const struct nl_addr *a, char *buf, size_t size)
{
  char ip[INET6_ADDRSTRLEN] = "?";
  const unsigned char *bytes = a->has_local ? a->local : a->address;
  inet_ntop (a->family, bytes, ip, sizeof ip);
  snprintf (buf, size, "%s/%u", ip, a->prefixlen);
}
