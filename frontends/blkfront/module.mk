# blkfront for the guest runtime (linked into the blk test guests).
FRONTENDS_BLK_SRCS := frontends/blkfront/blkfront.c frontends/blkfront/blkfront_xenbus.c
FRONTENDS_BLK_OBJS := $(call guest_objs,$(FRONTENDS_BLK_SRCS))
