{# USES_VARIABLES { N } #}
{#
brian_edff: a summed variable (``(summed)`` flag) whose target group has a
single cell, such as a layer summary, is summed in a local variable instead
of reading the target index of every synapse and writing the target through
memory after every term. The terms are added in the same order, from the
same zero, in the target's own type, so the result is the one cpp_standalone
computes: the empty asm statement makes the compiler keep the running sum in
a register after every term, so that ``-ffast-math`` cannot split the sum
into partial sums (reassociate it), while each term is still contracted with
its addition as in cpp_standalone's loop. Integer sums are exact in any order
and need no such guard. Targets with more than one cell are summed as
cpp_standalone does.
#}
{% extends 'common_group.cpp' %}

{% block maincode %}
    {% set _target_var_array = get_array_name(_target_var) %}
    {% set _index_array = get_array_name(_index_var) %}
    {% set _sum_type = c_data_type(_target_var.dtype) %}
    //// MAIN CODE ////////////
    const int _target_size = {{constant_or_scalar(_target_size_name, variables[_target_size_name])}};

    for (int _target_idx=0; _target_idx<_target_size; _target_idx++)
    {
        {{_target_var_array}}[_target_idx + {{_target_start}}] = 0;
    }

    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    const int _n_terms = {{N}};
    {% if _sum_type in ('float', 'double') %}
    #if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    #define _EDFF_KEEP_ORDER(_value) __asm__("" : "+x"(_value))
    #elif defined(__GNUC__) && defined(__aarch64__)
    #define _EDFF_KEEP_ORDER(_value) __asm__("" : "+w"(_value))
    #endif
    {% else %}
    #define _EDFF_KEEP_ORDER(_value)
    {% endif %}
    #ifdef _EDFF_KEEP_ORDER
    if (_target_size == 1)
    {
        {{_sum_type}} _edff_sum = 0;
        for(int _idx=0; _idx<_n_terms; _idx++)
        {
            // vector code
            const size_t _vectorisation_idx = _idx;
            {{vector_code|autoindent}}
            _edff_sum += _synaptic_var;
            _EDFF_KEEP_ORDER(_edff_sum);
        }
        {{_target_var_array}}[{{_target_start}}] = _edff_sum;
    }
    else
    #endif
    {
        for(int _idx=0; _idx<_n_terms; _idx++)
        {
            // vector code
            const size_t _vectorisation_idx = _idx;
            {{vector_code|autoindent}}
            {{_target_var_array}}[{{_index_array}}[_idx]] += _synaptic_var;
        }
    }
    #undef _EDFF_KEEP_ORDER
{% endblock %}
