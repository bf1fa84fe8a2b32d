/* The optional C accelerator of micrograd_like's engine (the pattern of CPython's json/_json).

   engine.py and backprop.py are the reference; this module only does what they do, faster,
   and every test runs against both (tests/test_accel.py compares them bit for bit). It holds:

   * Node, the base type of Value when the accelerator is in use: the nine node slots
     (_a _b _data _e _fn _g _grad _label _s) as C members. Nodes are created *untracked* by
     the cycle collector: a graph node refers only to older nodes, floats, strings and op-table
     entries, so it cannot be part of a reference cycle, and reference counting frees it. A node
     that can be in a cycle (a micrograd-style node whose op holds a closure) is tracked again by
     engine.py (`track`), so the collector still frees such cycles.
   * node(): the engine's _node constructor; nb_add / nb_multiply: Value + Value, Value * Value
     and the same with a float, as Value.__add__/__radd__/__mul__/__rmul__ record them (every
     other case calls those Python methods).
   * walk(), chain() and finish(): backprop._walk, backprop._chain_floats and the adding loop
     of backprop._backward, the same steps in the same order; a node whose op has no rule
     here is handed to backprop._chain_node, the loop body of _chain_floats.

   Floats are computed exactly as Python computes them: one IEEE operation at a time, in
   Python's order (hatch_build.py compiles with -ffp-contract=off, so no multiply and add are
   fused into one rounding).
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

typedef struct {
    PyObject_HEAD
    PyObject *a, *b, *data, *e, *fn, *g, *grad, *label, *s;
} NodeObject;

static PyTypeObject NodeType;

/* what setup() binds: the engine's globals, its Value class, markers and ops */
static PyTypeObject *ValueType = NULL;
static PyObject *engine_globals = NULL;
static PyObject *NARY = NULL, *ADD = NULL, *MUL = NULL, *NEG = NULL, *EXP = NULL, *LOG = NULL,
                *RELU = NULL, *DOT = NULL, *SUM = NULL;
static PyObject *py_add = NULL, *py_radd = NULL, *py_mul = NULL, *py_rmul = NULL;
static PyObject *str_epoch = NULL, *str_off_blocks = NULL;
static PyObject *ZERO = NULL, *EMPTY = NULL;
static Py_ssize_t live = 0; /* Value instances alive (the collector cannot count them) */

#define NODE(o) ((NodeObject *)(o))
#define IS_NODE(o) PyObject_TypeCheck((o), &NodeType)

/* ------------------------------------------------------------------------------ the type */

static int
untrackable(PyTypeObject *type)
{
    /* only instances with no storage beyond the node slots (no __dict__, no weakrefs) */
    return type->tp_basicsize == (Py_ssize_t)sizeof(NodeObject) && type->tp_dictoffset == 0 &&
           type->tp_weaklistoffset == 0;
}

static PyObject *
node_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *self = type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    live++;
    if (untrackable(type))
        PyObject_GC_UnTrack(self);
    return self;
}

static int
node_traverse(NodeObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->a);
    Py_VISIT(self->b);
    Py_VISIT(self->data);
    Py_VISIT(self->e);
    Py_VISIT(self->fn);
    Py_VISIT(self->g);
    Py_VISIT(self->grad);
    Py_VISIT(self->label);
    Py_VISIT(self->s);
    return 0;
}

static int
node_clear(NodeObject *self)
{
    Py_CLEAR(self->a);
    Py_CLEAR(self->b);
    Py_CLEAR(self->data);
    Py_CLEAR(self->e);
    Py_CLEAR(self->fn);
    Py_CLEAR(self->g);
    Py_CLEAR(self->grad);
    Py_CLEAR(self->label);
    Py_CLEAR(self->s);
    return 0;
}

static void
node_dealloc(NodeObject *self)
{
    /* Value's own dealloc (subtype_dealloc) wraps this in the trashcan, so a chain of any
       length is freed without deep C recursion */
    PyObject_GC_UnTrack(self);
    Py_TRASHCAN_BEGIN(self, node_dealloc);
    live--;
    node_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
    Py_TRASHCAN_END;
}

static PyMemberDef node_members[] = {
    {"_a", T_OBJECT_EX, offsetof(NodeObject, a), 0, NULL},
    {"_b", T_OBJECT_EX, offsetof(NodeObject, b), 0, NULL},
    {"_data", T_OBJECT_EX, offsetof(NodeObject, data), 0, NULL},
    {"_e", T_OBJECT_EX, offsetof(NodeObject, e), 0, NULL},
    {"_fn", T_OBJECT_EX, offsetof(NodeObject, fn), 0, NULL},
    {"_g", T_OBJECT_EX, offsetof(NodeObject, g), 0, NULL},
    {"_grad", T_OBJECT_EX, offsetof(NodeObject, grad), 0, NULL},
    {"_label", T_OBJECT_EX, offsetof(NodeObject, label), 0, NULL},
    {"_s", T_OBJECT_EX, offsetof(NodeObject, s), 0, NULL},
    {NULL},
};

/* ------------------------------------------------------------------------------ recording */

static int
ready(void)
{
    if (ValueType == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "micrograd_like._speedups: setup() was not called");
        return 0;
    }
    return 1;
}

/* _node(data, op, a, b): steals data; op, a, b are borrowed (op/a/b may be None) */
static PyObject *
make_node(PyObject *data, PyObject *op, PyObject *a, PyObject *b)
{
    NodeObject *v = (NodeObject *)ValueType->tp_alloc(ValueType, 0);
    if (v == NULL) {
        Py_DECREF(data);
        return NULL;
    }
    live++;
    PyObject_GC_UnTrack(v);
    v->data = data;
    /* the epoch is read after the allocation, which may run a collection (and any code) */
    PyObject *e = PyDict_GetItemWithError(engine_globals, str_epoch);
    if (e == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "micrograd_like._speedups: no engine _epoch");
        Py_DECREF(v);
        return NULL;
    }
    Py_INCREF(ZERO);
    v->grad = ZERO;
    Py_INCREF(EMPTY);
    v->label = EMPTY;
    Py_INCREF(op);
    v->fn = op;
    Py_INCREF(a);
    v->a = a;
    Py_INCREF(b);
    v->b = b;
    Py_INCREF(Py_None);
    v->g = Py_None;
    Py_INCREF(Py_None);
    v->s = Py_None;
    Py_INCREF(e);
    v->e = e;
    return (PyObject *)v;
}

static PyObject *
sp_node(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "node(data, op, a, b) takes 4 arguments");
        return NULL;
    }
    if (!ready())
        return NULL;
    Py_INCREF(args[0]);
    return make_node(args[0], args[1], args[2], args[3]);
}

/* whether operations record (no no_grad block open in any thread: then the Python method,
   which asks about this thread, decides) */
static int
recording(void)
{
    PyObject *off = PyDict_GetItemWithError(engine_globals, str_off_blocks);
    if (off == NULL)
        return PyErr_Occurred() ? -1 : 0;
    int on = PyObject_Not(off);
    return on;
}

/* x (+ or *) y for exact Values with float data, or a Value and an exact float; NULL with no
   error set when this is not such a case */
static PyObject *
record_binary(PyObject *self, PyObject *other, PyObject *op, int mul)
{
    NodeObject *s = NODE(self);
    if (s->data == NULL || !PyFloat_CheckExact(s->data))
        return NULL;
    double x = PyFloat_AS_DOUBLE(s->data), y;
    PyObject *lifted = NULL;
    if (Py_IS_TYPE(other, ValueType)) {
        PyObject *od = NODE(other)->data;
        if (od == NULL || !PyFloat_CheckExact(od))
            return NULL;
        y = PyFloat_AS_DOUBLE(od);
    }
    else if (PyFloat_CheckExact(other)) {
        y = PyFloat_AS_DOUBLE(other);
    }
    else if (PyLong_CheckExact(other)) {
        /* an int is lifted to the leaf float(other) (sum() starts at 0) */
        y = PyLong_AsDouble(other);
        if (y == -1.0 && PyErr_Occurred()) {
            PyErr_Clear(); /* too large: the Python route says so */
            return NULL;
        }
    }
    else {
        return NULL;
    }
    int on = recording();
    if (on <= 0)
        return NULL; /* an error (kept set) or a no_grad block somewhere: the Python route */
    if (!Py_IS_TYPE(other, ValueType)) {
        /* the number becomes a constant leaf: _node(other, None, None, None) */
        PyObject *number = other;
        if (PyFloat_CheckExact(other))
            Py_INCREF(other);
        else if ((number = PyFloat_FromDouble(y)) == NULL)
            return NULL;
        lifted = make_node(number, Py_None, Py_None, Py_None);
        if (lifted == NULL)
            return NULL;
        other = lifted;
    }
    PyObject *data = PyFloat_FromDouble(mul ? x * y : x + y);
    PyObject *out = data == NULL ? NULL : make_node(data, op, self, other);
    Py_XDECREF(lifted);
    return out;
}

static PyObject *
binary(PyObject *x, PyObject *y, PyObject *op, int mul, PyObject *py, PyObject *py_reflected)
{
    if (!ready())
        return NULL;
    PyObject *self, *other, *method;
    if (PyObject_TypeCheck(x, ValueType)) {
        self = x, other = y, method = py;
    }
    else if (PyObject_TypeCheck(y, ValueType)) {
        self = y, other = x, method = py_reflected;
    }
    else {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (Py_IS_TYPE(self, ValueType)) {
        PyObject *out = record_binary(self, other, op, mul);
        if (out != NULL || PyErr_Occurred())
            return out;
    }
    return PyObject_CallFunctionObjArgs(method, self, other, NULL);
}

static PyObject *
node_add(PyObject *x, PyObject *y)
{
    return binary(x, y, ADD, 0, py_add, py_radd);
}

static PyObject *
node_mul(PyObject *x, PyObject *y)
{
    return binary(x, y, MUL, 1, py_mul, py_rmul);
}

static PyNumberMethods node_as_number = {
    .nb_add = node_add,
    .nb_multiply = node_mul,
};

static PyTypeObject NodeType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "micrograd_like._speedups.Node",
    .tp_doc = PyDoc_STR("The C base of Value: the node slots, not tracked by the collector."),
    .tp_basicsize = sizeof(NodeObject),
    .tp_itemsize = 0,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = node_tp_new,
    .tp_dealloc = (destructor)node_dealloc,
    .tp_traverse = (traverseproc)node_traverse,
    .tp_clear = (inquiry)node_clear,
    .tp_members = node_members,
    .tp_as_number = &node_as_number,
};

/* ------------------------------------------------------------------------------ functions */

static PyObject *
sp_setup(PyObject *module, PyObject *args)
{
    PyObject *value, *globals, *nary, *add, *mul, *neg, *exp, *log, *relu, *dot, *sum, *padd,
        *pradd, *pmul, *prmul;
    if (!PyArg_ParseTuple(args, "O!O!OOOOOOOOOOOOO:setup", &PyType_Type, &value, &PyDict_Type,
                          &globals, &nary, &add, &mul, &neg, &exp, &log, &relu, &dot, &sum, &padd,
                          &pradd, &pmul, &prmul))
        return NULL;
    if (!PyType_IsSubtype((PyTypeObject *)value, &NodeType) ||
        !untrackable((PyTypeObject *)value)) {
        PyErr_SetString(PyExc_TypeError, "setup: Value must subclass Node with __slots__ = ()");
        return NULL;
    }
    Py_INCREF(value);
    Py_XSETREF(ValueType, (PyTypeObject *)value);
#define KEEP(var, obj) \
    Py_INCREF(obj);    \
    Py_XSETREF(var, obj)
    KEEP(engine_globals, globals);
    KEEP(NARY, nary);
    KEEP(ADD, add);
    KEEP(MUL, mul);
    KEEP(NEG, neg);
    KEEP(EXP, exp);
    KEEP(LOG, log);
    KEEP(RELU, relu);
    KEEP(DOT, dot);
    KEEP(SUM, sum);
    KEEP(py_add, padd);
    KEEP(py_radd, pradd);
    KEEP(py_mul, pmul);
    KEEP(py_rmul, prmul);
#undef KEEP
    Py_RETURN_NONE;
}

static PyObject *
sp_track(PyObject *module, PyObject *v)
{
    if (!IS_NODE(v)) {
        PyErr_Format(PyExc_TypeError, "track: expected a Value, got %.80s", Py_TYPE(v)->tp_name);
        return NULL;
    }
    if (!PyObject_GC_IsTracked(v))
        PyObject_GC_Track(v);
    Py_RETURN_NONE;
}

static PyObject *
sp_live(PyObject *module, PyObject *unused)
{
    return PyLong_FromSsize_t(live);
}

/* a member a node must have set (an unset one raises AttributeError, as a slot does) */
static PyObject *
member(PyObject *v, PyObject *field, const char *name)
{
    if (field == NULL)
        PyErr_Format(PyExc_AttributeError, "'%.80s' object has no attribute '%s'",
                     Py_TYPE(v)->tp_name, name);
    return field;
}

static int
check_node(PyObject *v)
{
    if (IS_NODE(v))
        return 1;
    PyErr_Format(PyExc_TypeError, "backward: expected a Value in the graph, got %.80s",
                 Py_TYPE(v)->tp_name);
    return 0;
}

#define SET(field, value)          \
    do {                           \
        PyObject *_old = (field);  \
        Py_INCREF(value);          \
        (field) = (value);         \
        Py_XDECREF(_old);          \
    } while (0)

/* walk(root, seed, zero, leaf, seen, walk, done) -> (nodes, order, mixed): backprop._walk's
   loop for a root that is not a leaf, step for step. Every node on the stack is in `nodes`,
   which holds it. */
static PyObject *
sp_walk(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "walk takes 7 arguments");
        return NULL;
    }
    PyObject *root = args[0], *seed = args[1], *zero = args[2];
    PyObject *LEAF = args[3], *SEEN = args[4], *WALK = args[5], *DONE = args[6];
    if (!ready() || !check_node(root))
        return NULL;
    PyObject *nodes = PyList_New(0), *order = PyList_New(0);
    PyObject **stack = NULL, *seq = NULL;
    Py_ssize_t top = 0, cap = 0;
    int mixed = 0;
    if (nodes == NULL || order == NULL)
        goto fail;
    SET(NODE(root)->g, seed);
    if (PyList_Append(nodes, root) < 0)
        goto fail;
    SET(NODE(root)->s, SEEN);
    PyObject *e0 = member(root, NODE(root)->e, "_e");
    if (e0 == NULL)
        goto fail;
#define PUSH(x)                                                                   \
    do {                                                                          \
        if (top == cap) {                                                         \
            Py_ssize_t ncap = cap ? 2 * cap : 1024;                               \
            PyObject **ns = PyMem_Realloc(stack, (size_t)ncap * sizeof(PyObject *)); \
            if (ns == NULL) {                                                     \
                PyErr_NoMemory();                                                 \
                goto fail;                                                        \
            }                                                                     \
            stack = ns, cap = ncap;                                               \
        }                                                                         \
        stack[top++] = (x);                                                       \
    } while (0)
    PUSH(root);
    while (top) {
        PyObject *v = stack[--top];
        NodeObject *n = NODE(v);
        PyObject *s = n->s;
        if (s == WALK) {
            SET(n->s, DONE);
            if (n->e != e0)
                mixed = 1;
            if (PyList_Append(order, v) < 0)
                goto fail;
            continue;
        }
        if (s == DONE)
            continue;
        SET(n->s, WALK);
        PUSH(v);
        PyObject *a = member(v, n->a, "_a"), *b = member(v, n->b, "_b");
        if (a == NULL || b == NULL)
            goto fail;
        PyObject *pair[2];
        PyObject **ps;
        Py_ssize_t np;
        if (b == NARY) {
            seq = PySequence_Fast(a, "backward: an n-ary node's parents must be a sequence");
            if (seq == NULL)
                goto fail;
            ps = PySequence_Fast_ITEMS(seq);
            np = PySequence_Fast_GET_SIZE(seq);
        }
        else if (b == Py_None) {
            pair[0] = a;
            ps = pair;
            np = 1;
        }
        else {
            pair[0] = a;
            pair[1] = b;
            ps = pair;
            np = 2;
        }
        /* pushed last parent first, so the first parent is walked first */
        for (Py_ssize_t i = np - 1; i >= 0; i--) {
            PyObject *p = ps[i];
            if (!check_node(p))
                goto fail;
            NodeObject *pn = NODE(p);
            PyObject *ps_ = pn->s;
            if (ps_ == LEAF || ps_ == DONE)
                continue;
            if (ps_ == SEEN) {
                PUSH(p);
            }
            else if (ps_ != WALK) {
                SET(pn->g, zero);
                if (PyList_Append(nodes, p) < 0)
                    goto fail;
                if (pn->a == Py_None) {
                    SET(pn->s, LEAF);
                }
                else {
                    if (member(p, pn->a, "_a") == NULL)
                        goto fail;
                    SET(pn->s, SEEN);
                    PUSH(p);
                }
            }
        }
        Py_CLEAR(seq);
    }
#undef PUSH
    PyMem_Free(stack);
    PyObject *r = Py_BuildValue("(NNO)", nodes, order, mixed ? Py_True : Py_False);
    return r;
fail:
    PyMem_Free(stack);
    Py_XDECREF(seq);
    Py_XDECREF(nodes);
    Py_XDECREF(order);
    return NULL;
}

/* p._g += c for floats */
static int
add_float(NodeObject *p, double c)
{
    PyObject *sum = PyFloat_FromDouble(PyFloat_AS_DOUBLE(p->g) + c);
    if (sum == NULL)
        return -1;
    Py_SETREF(p->g, sum);
    return 0;
}

/* dot (w_1..w_n, x_1..x_n, b) and sum nodes: d/dw_i = g * x_i, d/dx_i = g * w_i, d/db = g
   (ops._d_dot), every input of a sum gets g; all computed first, then added in parent order.
   Returns 1 when done, 0 when this node is not such a case (nothing changed), -1 on error. */
static int
chain_nary(PyObject *op, PyObject *g, PyObject *a)
{
    if (!PyTuple_CheckExact(a))
        return 0;
    Py_ssize_t size = PyTuple_GET_SIZE(a), n = size / 2;
    if (size < 1 || (op == DOT && size % 2 == 0))
        return 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *p = PyTuple_GET_ITEM(a, i);
        if (!Py_IS_TYPE(p, ValueType))
            return 0;
        NodeObject *pn = NODE(p);
        if (pn->g == NULL || !PyFloat_CheckExact(pn->g) || pn->data == NULL ||
            !PyFloat_CheckExact(pn->data))
            return 0;
    }
    double gd = PyFloat_AS_DOUBLE(g);
    double local_small[64];
    double *local = size <= 64 ? local_small : PyMem_Malloc((size_t)size * sizeof(double));
    if (local == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < size; i++) {
        if (op == SUM || i == size - 1)
            local[i] = gd;
        else if (i < n)
            local[i] = gd * PyFloat_AS_DOUBLE(NODE(PyTuple_GET_ITEM(a, n + i))->data);
        else
            local[i] = gd * PyFloat_AS_DOUBLE(NODE(PyTuple_GET_ITEM(a, i - n))->data);
    }
    int r = 1;
    for (Py_ssize_t i = 0; i < size; i++) {
        /* a parent listed twice is read again after its first addition, as in Python */
        NodeObject *pn = NODE(PyTuple_GET_ITEM(a, i));
        if (!PyFloat_CheckExact(pn->g)) {
            PyErr_SetString(PyExc_SystemError, "chain: a gradient stopped being a float");
            r = -1;
            break;
        }
        if (add_float(pn, local[i]) < 0) {
            r = -1;
            break;
        }
    }
    if (local != local_small)
        PyMem_Free(local);
    return r;
}

/* chain(order, chain_node): backprop._chain_floats. Nodes of add, mul, neg, exp, log and relu
   whose gradients and data are floats are done here, by their rules in ops.py written out:
   (g, g), (g * b, g * a), (-g,), (g * out,), (g / x,), (g * (1.0 if x > 0.0 else 0.0),).
   dot and sum nodes: see chain_nary. Any other node goes to backprop._chain_node(v), the
   loop body in Python. */
static PyObject *
sp_chain(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "chain(order, chain_node) takes 2 arguments");
        return NULL;
    }
    PyObject *order = args[0], *chain_node = args[1];
    if (!ready())
        return NULL;
    if (!PyList_CheckExact(order)) {
        PyErr_SetString(PyExc_TypeError, "chain: expected a list");
        return NULL;
    }
    Py_INCREF(order);
    for (Py_ssize_t i = PyList_GET_SIZE(order) - 1; i >= 0; i--) {
        if (i >= PyList_GET_SIZE(order))
            continue;
        PyObject *v = PyList_GET_ITEM(order, i);
        if (!check_node(v))
            goto fail;
        NodeObject *n = NODE(v);
        PyObject *g = member(v, n->g, "_g");
        if (g == NULL)
            goto fail;
        if (PyFloat_CheckExact(g)) {
            if (PyFloat_AS_DOUBLE(g) == 0.0)
                continue; /* `if not g`: NaN is true */
        }
        else {
            int t = PyObject_IsTrue(g);
            if (t < 0)
                goto fail;
            if (!t)
                continue;
        }
        PyObject *op = n->fn, *a = n->a, *b = n->b;
        if ((op == ADD || op == MUL) && PyFloat_CheckExact(g) && a != NULL && b != NULL &&
            Py_IS_TYPE(a, ValueType) && Py_IS_TYPE(b, ValueType)) {
            NodeObject *an = NODE(a), *bn = NODE(b);
            if (an->g != NULL && bn->g != NULL && PyFloat_CheckExact(an->g) &&
                PyFloat_CheckExact(bn->g) && an->data != NULL && bn->data != NULL &&
                PyFloat_CheckExact(an->data) && PyFloat_CheckExact(bn->data)) {
                double gd = PyFloat_AS_DOUBLE(g), ca, cb;
                if (op == ADD) {
                    ca = gd, cb = gd; /* d(a + b) = (g, g) */
                }
                else {
                    /* d(a * b) = (g * b, g * a) */
                    ca = gd * PyFloat_AS_DOUBLE(bn->data);
                    cb = gd * PyFloat_AS_DOUBLE(an->data);
                }
                /* a is b (x * x): b's _g is read after a's addition, as in Python */
                if (add_float(an, ca) < 0 || add_float(bn, cb) < 0)
                    goto fail;
                continue;
            }
        }
        if ((op == NEG || op == EXP || op == LOG || op == RELU) && PyFloat_CheckExact(g) &&
            b == Py_None && a != NULL && Py_IS_TYPE(a, ValueType) && n->data != NULL &&
            PyFloat_CheckExact(n->data)) {
            NodeObject *an = NODE(a);
            if (an->g != NULL && PyFloat_CheckExact(an->g) && an->data != NULL &&
                PyFloat_CheckExact(an->data)) {
                double gd = PyFloat_AS_DOUBLE(g), x = PyFloat_AS_DOUBLE(an->data), c;
                int done = 1;
                if (op == NEG)
                    c = -gd; /* d(-x) = -g */
                else if (op == EXP)
                    c = gd * PyFloat_AS_DOUBLE(n->data); /* d e^x = g * out */
                else if (op == RELU)
                    c = gd * (x > 0.0 ? 1.0 : 0.0); /* d relu = g * (1 if x > 0 else 0) */
                else if (x != 0.0)
                    c = gd / x; /* d log x = g / x */
                else
                    done = 0; /* g / 0 raises: the Python route names the node */
                if (done) {
                    if (add_float(an, c) < 0)
                        goto fail;
                    continue;
                }
            }
        }
        if ((op == DOT || op == SUM) && PyFloat_CheckExact(g) && b == NARY && a != NULL) {
            int done = chain_nary(op, g, a);
            if (done < 0)
                goto fail;
            if (done)
                continue;
        }
        Py_INCREF(v);
        PyObject *r = PyObject_CallOneArg(chain_node, v);
        Py_DECREF(v);
        if (r == NULL)
            goto fail;
        Py_DECREF(r);
    }
    Py_DECREF(order);
    Py_RETURN_NONE;
fail:
    Py_DECREF(order);
    return NULL;
}

/* finish(nodes, fin): backprop._backward's adding loop, `v._grad, v._s = v._grad + v._g, fin`
   for each node in turn; an error (a .grad of None) stops it where the Python loop stops */
static PyObject *
sp_finish(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "finish(nodes: list, fin) takes 2 arguments");
        return NULL;
    }
    PyObject *nodes = args[0], *fin = args[1];
    Py_INCREF(nodes);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(nodes); i++) {
        PyObject *v = PyList_GET_ITEM(nodes, i);
        if (!check_node(v))
            goto fail;
        NodeObject *n = NODE(v);
        PyObject *grad = member(v, n->grad, "_grad"), *g = member(v, n->g, "_g");
        if (grad == NULL || g == NULL)
            goto fail;
        PyObject *sum;
        if (PyFloat_CheckExact(grad) && PyFloat_CheckExact(g))
            sum = PyFloat_FromDouble(PyFloat_AS_DOUBLE(grad) + PyFloat_AS_DOUBLE(g));
        else
            sum = PyNumber_Add(grad, g);
        if (sum == NULL)
            goto fail;
        Py_SETREF(n->grad, sum);
        SET(n->s, fin);
    }
    Py_DECREF(nodes);
    Py_RETURN_NONE;
fail:
    Py_DECREF(nodes);
    return NULL;
}

static PyMethodDef sp_methods[] = {
    {"finish", (PyCFunction)(void (*)(void))sp_finish, METH_FASTCALL,
     "finish(nodes, fin): backprop._backward's adding loop"},
    {"setup", (PyCFunction)sp_setup, METH_VARARGS,
     "setup(Value, globals, NARY, ADD, MUL, NEG, EXP, LOG, RELU, DOT, SUM, add, radd, mul, rmul)"},
    {"node", (PyCFunction)(void (*)(void))sp_node, METH_FASTCALL,
     "node(data, op, a, b): the engine's _node, an untracked Value"},
    {"track", (PyCFunction)sp_track, METH_O,
     "track(v): let the cycle collector see v (a node that may be part of a cycle)"},
    {"live_nodes", (PyCFunction)sp_live, METH_NOARGS, "how many Values are alive"},
    {"walk", (PyCFunction)(void (*)(void))sp_walk, METH_FASTCALL,
     "backprop._walk's loop: (nodes, order, mixed)"},
    {"chain", (PyCFunction)(void (*)(void))sp_chain, METH_FASTCALL,
     "chain(order, chain_node): backprop._chain_floats"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef sp_module = {
    PyModuleDef_HEAD_INIT,
    "micrograd_like._speedups",
    "The optional C accelerator of micrograd_like's engine (see engine.py, the reference).",
    -1,
    sp_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (PyType_Ready(&NodeType) < 0)
        return NULL;
    str_epoch = PyUnicode_InternFromString("_epoch");
    str_off_blocks = PyUnicode_InternFromString("_off_blocks");
    ZERO = PyFloat_FromDouble(0.0);
    EMPTY = PyUnicode_FromString("");
    if (str_epoch == NULL || str_off_blocks == NULL || ZERO == NULL || EMPTY == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&sp_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddIntConstant(m, "API", 1) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&NodeType);
    if (PyModule_AddObject(m, "Node", (PyObject *)&NodeType) < 0) {
        Py_DECREF(&NodeType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
